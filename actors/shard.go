package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain/als"
)

// solveBlock asks a shard to solve rows [Lo, Hi) of Dst against Other, and
// optionally to add up the loss of those rows afterwards. The matrices and
// factors are shared memory: shards write disjoint rows of Dst.
type solveBlock struct {
	JobID   string
	Step    int // sequence number of the half-step within the job
	Block   int
	Lo, Hi  int
	Dst     *als.Factors
	M       *als.Matrix
	Other   *als.Factors
	Gram    []float64
	Params  als.Params
	Loss    bool // compute the loss of the rows (user half-steps)
	Attempt int  // 0 on first delivery; the supervisor resends after a crash
}

// blockDone answers solveBlock.
type blockDone struct {
	JobID string
	Step  int
	Block int
	Loss  float64
	Err   error
	Took  time.Duration
}

// shardActor owns one contiguous block of rows per half-step and solves it
// with the ALS kernel. It has no state: a restarted shard just solves the
// block it is sent again.
type shardActor struct {
	// hook, if set, runs before each solve; tests use it to crash a shard.
	hook func(*solveBlock)
}

// Receive implements actor.Actor.
func (s *shardActor) Receive(c actor.Context) {
	m, ok := c.Message().(*solveBlock)
	if !ok {
		return
	}
	if s.hook != nil {
		s.hook(m)
	}
	start := time.Now()
	res := &blockDone{JobID: m.JobID, Step: m.Step, Block: m.Block}
	res.Err = als.SolveRows(m.Dst, m.Lo, m.Hi, m.M, m.Other, m.Gram, m.Params)
	if res.Err == nil && m.Loss {
		res.Loss, res.Err = als.LossRows(m.M, m.Lo, m.Hi, m.Dst, m.Other, m.Gram, m.Params)
	}
	res.Took = time.Since(start)
	c.Send(c.Parent(), res)
}

// maxBlockAttempts bounds how often a crashing block is retried before the
// job fails: a block that panics every time is a bug, not bad luck.
const maxBlockAttempts = 3

// shardStrategy restarts a crashed shard and hands it the block it was
// solving again, so the half-step completes; after maxBlockAttempts the
// coordinator is told the block failed and fails the job.
type shardStrategy struct {
	coordinator *actor.PID
}

// HandleFailure implements actor.SupervisorStrategy.
func (st shardStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, message any) {
	sup.RestartChildren(child)
	m, ok := message.(*solveBlock)
	if !ok {
		return
	}
	retry := *m
	retry.Attempt++
	if retry.Attempt >= maxBlockAttempts {
		sys.Root.Send(st.coordinator, &blockDone{JobID: m.JobID, Step: m.Step, Block: m.Block,
			Err: &shardPanic{reason: reason, attempts: retry.Attempt}})
		return
	}
	sys.Root.Send(child, &retry)
}

type shardPanic struct {
	reason   any
	attempts int
}

func (e *shardPanic) Error() string {
	return fmt.Sprintf("shard crashed %d times on the same block: %v", e.attempts, e.reason)
}
