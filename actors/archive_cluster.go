package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marquee-recsys/marquee/ports"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
)

// The archive admin API on a cluster: any node asks the archiver
// singleton, wherever it runs, in protobuf.

// askArchiverGrain asks the cluster's archiver singleton.
func (s *System) askArchiverGrain(ctx context.Context, msg any) (any, error) {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	res, err := s.env.grains.call(archiverKind, archiverKind, msg, timeout)
	if err != nil {
		return nil, fmt.Errorf("archiver did not answer: %w", err)
	}
	switch res.(type) {
	case *pb.ArchiveAnswer, *pb.ArchiveStatus:
		return res, nil
	}
	return nil, fmt.Errorf("archiver answered %T: %w", res, ports.ErrUnavailable)
}

// archiverMessage answers the archive messages a singleton grain gets by
// asking this node's archiver; false when msg is not one.
func (s *singletonGrain) archiverMessage(c actor.Context) bool {
	var req any
	switch m := c.Message().(type) {
	case *pb.Archive:
		req = &ArchiveRequest{Reason: m.Reason}
	case *pb.ArchiveStatusQuery:
		req = &ArchiveStatusRequest{}
	default:
		return false
	}
	res, err := c.RequestFuture(c.ActorSystem().NewLocalPID(rootName+"/archiver"), req, 5*time.Second).Result()
	if err != nil {
		s.env.Logger.Warn("the archiver singleton's archiver did not answer", "err", err)
		return true
	}
	switch r := res.(type) {
	case *ArchiveReply:
		c.Respond(&pb.ArchiveAnswer{Run: archiveRunToPB(r.Run), Started: r.Started})
	case *ArchiveStatus:
		out := &pb.ArchiveStatus{Failures: int64(r.Failures)}
		if r.Current != nil {
			out.Current = archiveRunToPB(*r.Current)
		}
		for _, run := range r.Recent {
			out.Recent = append(out.Recent, archiveRunToPB(run))
		}
		if !r.NextAt.IsZero() {
			out.NextAt = timestamppb.New(r.NextAt)
		}
		c.Respond(out)
	}
	return true
}

func archiveStatusFromPB(m *pb.ArchiveStatus) ArchiveStatus {
	st := ArchiveStatus{Failures: int(m.Failures)}
	if m.Current != nil {
		r := archiveRunFromPB(m.Current)
		st.Current = &r
	}
	for _, r := range m.Recent {
		st.Recent = append(st.Recent, archiveRunFromPB(r))
	}
	if m.NextAt != nil {
		st.NextAt = m.NextAt.AsTime()
	}
	return st
}

func archiveRunToPB(r ArchiveRun) *pb.ArchiveRun {
	out := &pb.ArchiveRun{
		Id: r.ID, Reason: r.Reason, Cutoff: timestamppb.New(r.Cutoff), StartedAt: timestamppb.New(r.StartedAt),
		Running: r.Running, Files: int64(r.Files), Rows: int64(r.Rows), Bytes: r.Bytes, Orphans: int64(r.Orphans),
		Seconds: r.Seconds, Error: r.Error,
	}
	if !r.FinishedAt.IsZero() {
		out.FinishedAt = timestamppb.New(r.FinishedAt)
	}
	return out
}

func archiveRunFromPB(m *pb.ArchiveRun) ArchiveRun {
	if m == nil {
		return ArchiveRun{}
	}
	r := ArchiveRun{
		ID: m.Id, Reason: m.Reason, Cutoff: m.Cutoff.AsTime(), StartedAt: m.StartedAt.AsTime(), Running: m.Running,
		Files: int(m.Files), Rows: int(m.Rows), Bytes: m.Bytes, Orphans: int(m.Orphans), Seconds: m.Seconds, Error: m.Error,
	}
	if m.FinishedAt != nil {
		r.FinishedAt = m.FinishedAt.AsTime()
	}
	return r
}
