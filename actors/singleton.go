package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
	"github.com/marquee-recsys/marquee/training"
)

// singletonGrain hosts cluster-wide actors (the trainer with the
// scheduler, or the archiver). While it is active it runs them at the
// fixed local names marquee/<name>, the names the single-node tree gives
// them, so the rest of this node addresses them as before; it stops them
// when it is passivated or moved to another member. Other nodes reach the
// trainer through the grain, in protobuf.
type singletonGrain struct {
	env      *env
	kind     string
	children []singletonChild
	running  []*actor.PID
}

type singletonChild struct {
	name  string
	props *actor.Props
}

// Receive implements actor.Actor.
func (s *singletonGrain) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		if s.notOwner(c) {
			return
		}
		s.spawn(c)
	case *pb.Keepalive:
		if s.notOwner(c) {
			// The asker finds the owner on its next keepalive.
			c.Respond(&pb.KeepaliveAck{})
			return
		}
		if len(s.running) < len(s.children) {
			s.spawn(c)
		}
		c.Respond(&pb.KeepaliveAck{Address: c.ActorSystem().Address()})
	case *pb.Archive, *pb.ArchiveStatusQuery:
		s.archiverMessage(c)
	case *pb.Train:
		var opts training.Options
		if m.HasTune {
			opts.Tune = &m.Tune
		}
		if r, ok := s.askTrainer(c, &TrainRequest{Reason: m.Reason, Options: opts}).(*TrainReply); ok {
			c.Respond(&pb.TrainAnswer{Job: jobToPB(r.Job), Started: r.Started})
		}
	case *pb.JobQuery:
		if r, ok := s.askTrainer(c, &jobQuery{ID: m.Id}).(*jobReply); ok {
			c.Respond(&pb.JobAnswer{Job: jobToPB(r.Job), Found: r.Found})
		}
	case *pb.TrainingQuery:
		if r, ok := s.askTrainer(c, &trainingQuery{}).(*TrainingStatus); ok {
			out := &pb.TrainingAnswer{}
			if r.Current != nil {
				out.Current = jobToPB(*r.Current)
			}
			for _, j := range r.Recent {
				out.Recent = append(out.Recent, jobToPB(j))
			}
			c.Respond(out)
		}
	case *actor.Stopping:
		for i := len(s.running) - 1; i >= 0; i-- {
			if err := c.ActorSystem().Root.StopFuture(s.running[i]).Wait(); err != nil {
				s.env.Logger.Warn("cluster singleton did not stop in time", "singleton", s.kind, "err", err)
			}
		}
		if len(s.running) > 0 {
			s.env.Logger.Info("cluster singleton stopped here", "singleton", s.kind)
		}
		s.running = nil
	}
}

// askTrainer asks this node's trainer and returns its answer, or nil (the
// caller then gets no answer and times out, as with a local trainer).
func (s *singletonGrain) askTrainer(c actor.Context, msg any) any {
	res, err := c.RequestFuture(c.ActorSystem().NewLocalPID(rootName+"/trainer"), msg, 5*time.Second).Result()
	if err != nil {
		s.env.Logger.Warn("the trainer singleton's trainer did not answer", "err", err)
		return nil
	}
	return res
}

// notOwner stops the grain when another member owns it (see ownership).
func (s *singletonGrain) notOwner(c actor.Context) bool {
	if s.env.owner.owns(s.kind, s.kind) {
		return false
	}
	s.env.Logger.Info("cluster singleton activated on a member that does not own it; stopping it here", "singleton", s.kind)
	c.Stop(c.Self())
	return true
}

// spawn starts the actors not yet running. A name may still be held by an
// incarnation that is stopping; the next keepalive tries again.
func (s *singletonGrain) spawn(c actor.Context) {
	for _, ch := range s.children[len(s.running):] {
		pid, err := c.ActorSystem().Root.SpawnNamed(ch.props, rootName+"/"+ch.name)
		if err != nil {
			s.env.Logger.Warn("cluster singleton not started yet", "singleton", s.kind, "actor", ch.name, "err", err)
			return
		}
		s.running = append(s.running, pid)
	}
	s.env.Logger.Info("cluster singleton running here", "singleton", s.kind, "address", c.ActorSystem().Address())
}

func jobToPB(j training.Job) *pb.TrainingJob {
	out := &pb.TrainingJob{
		Id: j.ID, Reason: j.Reason, Tuned: j.Tuned, State: string(j.State), Phase: j.Phase,
		Iteration: int32(j.Iteration), Iterations: int32(j.Iterations), Loss: j.Loss, StartedAt: timestamppb.New(j.StartedAt),
		Error: j.Error, ModelVersion: j.ModelVersion, Promoted: j.Promoted, GateReason: j.GateReason,
		Metrics: j.Metrics, Timings: j.Timings,
	}
	if !j.FinishedAt.IsZero() {
		out.FinishedAt = timestamppb.New(j.FinishedAt)
	}
	return out
}

func jobFromPB(m *pb.TrainingJob) training.Job {
	if m == nil {
		return training.Job{}
	}
	j := training.Job{
		ID: m.Id, Reason: m.Reason, Tuned: m.Tuned, State: training.JobState(m.State), Phase: m.Phase,
		Iteration: int(m.Iteration), Iterations: int(m.Iterations), Loss: m.Loss, StartedAt: m.StartedAt.AsTime(),
		Error: m.Error, ModelVersion: m.ModelVersion, Promoted: m.Promoted, GateReason: m.GateReason,
		Metrics: m.Metrics, Timings: m.Timings,
	}
	if m.FinishedAt != nil {
		j.FinishedAt = m.FinishedAt.AsTime()
	}
	return j
}
