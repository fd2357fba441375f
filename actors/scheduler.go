package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a standard five-field cron expression ("0 2 * * *")
// or a descriptor ("@daily", "@every 6h"), in UTC unless it starts with
// CRON_TZ=.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w", spec, err)
	}
	return s, nil
}

type schedulerTick struct{ at time.Time }

// schedulerActor sends a training request to the trainer every time the
// schedule fires. It keeps no state but the next timer, so a restart just
// schedules the next run again; a run missed while the node was down is
// not made up (the next one trains on everything anyway).
type schedulerActor struct {
	env      *env
	schedule cron.Schedule
	trainer  *actor.PID
	timer    *time.Timer
}

// Receive implements actor.Actor.
func (s *schedulerActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		s.arm(c)
	case *actor.Stopping, *actor.Restarting:
		if s.timer != nil {
			s.timer.Stop()
		}
	case *schedulerTick:
		if !s.env.owner.owns(trainerKind, trainerKind) {
			// Clustered, and this activation is a stale duplicate: the
			// owner's scheduler fires this one.
			s.env.Logger.Info("scheduled training left to the member owning the scheduler", "due", m.at)
			s.arm(c)
			return
		}
		s.env.Logger.Info("scheduled training", "due", m.at)
		c.Request(s.trainer, &TrainRequest{Reason: "cron"})
		s.arm(c)
	case *TrainReply:
		if !m.Started {
			s.env.Logger.Warn("scheduled training skipped: a job is still running", "job", m.Job.ID)
		}
	}
}

// arm sets a timer for the next firing. The timer only sends a message, so
// the actor's state is touched on its own goroutine alone.
func (s *schedulerActor) arm(c actor.Context) {
	now := s.env.Now()
	next := s.schedule.Next(now)
	root, self := c.ActorSystem().Root, c.Self()
	s.timer = time.AfterFunc(next.Sub(now), func() { root.Send(self, &schedulerTick{at: next}) })
}
