package actors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-recsys/marquee/domain/als"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
)

// shardKind is the cluster kind of remote training shards: stateless
// grains that solve one block of an ALS half-step sent in full.
const shardKind = "shard"

// maxRemoteBlock is the largest SolveBlock sent to another node: gRPC,
// under Proto.Actor's remote, refuses messages over 4 MiB by default. A
// bigger block (a large model's fixed factors) is solved by a local shard.
const maxRemoteBlock = 3 << 20

// remoteShardTimeout bounds the solve of one block on another node.
const remoteShardTimeout = 5 * time.Minute

// remoteBlockDone is a block solved by a shard grain, back on the
// trainer's goroutine: its rows are copied into the half-step's factors
// there, so that only the trainer writes them.
type remoteBlockDone struct {
	blockDone
	lo, hi int
	rows   []float32
	member string
}

// shardGrain solves blocks for trainers anywhere in the cluster.
type shardGrain struct{}

// Receive implements actor.Actor.
func (shardGrain) Receive(c actor.Context) {
	if m, ok := c.Message().(*pb.SolveBlock); ok {
		c.Respond(solveRemoteBlock(m, c.ActorSystem().Address()))
	}
}

func solveRemoteBlock(m *pb.SolveBlock, member string) *pb.BlockSolved {
	n, k := int(m.Hi-m.Lo), int(m.K)
	fail := func(err error) *pb.BlockSolved { return &pb.BlockSolved{Error: err.Error(), Member: member} }
	if n < 0 || len(m.Indptr) != n+1 {
		return fail(errors.New("malformed block"))
	}
	sub := &als.Matrix{Rows: n, Cols: int(m.Cols), Indptr: make([]int, n+1), Indices: unpackInt32(m.Indices), Data: unpackFloat32(m.Data)}
	for i, v := range m.Indptr {
		sub.Indptr[i] = int(v)
	}
	dst := &als.Factors{N: n, K: k, Data: unpackFloat32(m.Rows)}
	other := &als.Factors{N: int(m.OtherN), K: k, Data: unpackFloat32(m.Other)}
	p := als.Params{Factors: k, Alpha: m.Alpha, Lambda: m.Lambda, Iterations: 1, Seed: 1, Solver: m.Solver, CGSteps: int(m.CgSteps)}
	gram := unpackFloat64(m.Gram)
	if err := als.SolveRows(dst, 0, n, sub, other, gram, p); err != nil {
		return fail(err)
	}
	out := &pb.BlockSolved{Rows: packFloat32(dst.Data), Member: member}
	if m.Loss {
		loss, err := als.LossRows(sub, 0, n, dst, other, gram, p)
		if err != nil {
			return fail(err)
		}
		out.Loss = loss
	}
	return out
}

// remoteBlock builds the SolveBlock of b, or nil when it is too big to send.
func remoteBlock(b *solveBlock) *pb.SolveBlock {
	k := b.Dst.K
	lo, hi := b.M.Indptr[b.Lo], b.M.Indptr[b.Hi]
	m := &pb.SolveBlock{
		JobId: b.JobID, Step: int32(b.Step), Block: int32(b.Block), Lo: int32(b.Lo), Hi: int32(b.Hi), Cols: int32(b.M.Cols),
		Indptr: make([]int64, b.Hi-b.Lo+1), Indices: packInt32(b.M.Indices[lo:hi]), Data: packFloat32(b.M.Data[lo:hi]),
		K: int32(k), Rows: packFloat32(b.Dst.Data[b.Lo*k : b.Hi*k]), OtherN: int32(b.Other.N), Other: packFloat32(b.Other.Data),
		Gram: packFloat64(b.Gram), Alpha: b.Params.Alpha, Lambda: b.Params.Lambda, Solver: b.Params.Solver,
		CgSteps: int32(b.Params.CGSteps), Loss: b.Loss,
	}
	for i := range m.Indptr {
		m.Indptr[i] = int64(b.M.Indptr[b.Lo+i] - lo)
	}
	if proto.Size(m) > maxRemoteBlock {
		return nil
	}
	return m
}

// sendRemote has block i solved by a shard grain on the i-th member (in
// address order, so that blocks spread over the members) and posts the
// result to the trainer. It reports false when the block must be solved
// locally (too big to send, or no members known yet).
func (t *trainerActor) sendRemote(c actor.Context, b *solveBlock) bool {
	msg := remoteBlock(b)
	if msg == nil {
		return false
	}
	id, ok := t.env.owner.identityOn(shardKind, b.Block)
	if !ok {
		return false
	}
	grains, root, self := t.env.grains, c.ActorSystem().Root, c.Self()
	go func() {
		done := &remoteBlockDone{blockDone: blockDone{JobID: b.JobID, Step: b.Step, Block: b.Block}, lo: b.Lo, hi: b.Hi}
		start := time.Now()
		res, err := grains.call(shardKind, id, msg, remoteShardTimeout)
		done.Took = time.Since(start)
		switch r := res.(type) {
		case *pb.BlockSolved:
			done.member, done.Loss = r.Member, r.Loss
			if r.Error != "" {
				done.Err = fmt.Errorf("shard %s on %s: %s", id, r.Member, r.Error)
			} else {
				done.rows = unpackFloat32(r.Rows)
			}
		default:
			done.Err = fmt.Errorf("shard %s: %w", id, errors.Join(err, fmt.Errorf("answered %T", res)))
		}
		root.Send(self, done)
	}()
	return true
}

// remoteDone copies a remote block's rows into the half-step's factors
// (when it still belongs to the running half-step) and completes it.
func (t *trainerActor) remoteDone(c actor.Context, m *remoteBlockDone) {
	if t.job == nil || t.job.ID != m.JobID || t.job.Done() || t.run.step != m.Step {
		return
	}
	if m.Err == nil {
		dst := t.run.dst
		if len(m.rows) != (m.hi-m.lo)*dst.K {
			m.Err = fmt.Errorf("shard on %s answered %d values for block %d", m.member, len(m.rows), m.Block)
		} else {
			copy(dst.Data[m.lo*dst.K:], m.rows)
			t.run.remoteBlocks[m.member]++
		}
	}
	t.blockDone(c, &m.blockDone)
}

func packFloat32(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func unpackFloat32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func packFloat64(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
	}
	return b
}

func unpackFloat64(b []byte) []float64 {
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

func packInt32(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

func unpackInt32(b []byte) []int32 {
	v := make([]int32, len(b)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
