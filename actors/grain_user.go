package actors

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
)

// userKind is the cluster kind of user grains; the identity is the user id.
const userKind = "user"

// userGrain is a user actor as a cluster grain: activated by the identity
// lookup (disthash) on the member that owns the user id, it behaves exactly
// like the local user actor, but speaks protobuf at its edge because its
// callers may be on other nodes.
//
// It passivates itself: a ticker goroutine sends it idle checks (only a
// message: the actor's state is touched on its own goroutine alone, which
// is why Proto.Actor's racy receive timeout is not used), and when no
// message came for PassivateAfter it poisons itself. A message that
// arrives as it stops goes to dead letters, and the caller (grainClient)
// asks again, reaching a fresh activation that reloads the state.
type userGrain struct {
	userActor
	last time.Time
	stop chan struct{}
}

type idleCheck struct{}

func newUserGrain(e *env) actor.Actor { return &userGrain{userActor: userActor{env: e}} }

// Receive implements actor.Actor.
func (g *userGrain) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		if ci := cluster.GetClusterIdentity(c); ci != nil {
			g.id = domain.UserID(ci.Identity)
		}
		g.last = time.Now()
		g.startIdleTicker(c)
		g.userActor.Receive(c)
	case *actor.Stopping:
		g.stopIdleTicker()
	case *actor.Restarting:
		g.stopIdleTicker()
		g.userActor.Receive(c)
	case *actor.Stopped:
		g.userActor.Receive(c)
	case *pb.ApplyEvents:
		g.last = time.Now()
		ctx, cancel := g.env.msgCtx()
		defer cancel()
		evs := make([]domain.Interaction, len(m.Events))
		for i, ev := range m.Events {
			evs[i] = interactionFromPB(ev)
		}
		res := g.apply(ctx, c, evs)
		out := &pb.Applied{Inserted: int32(res.Inserted)}
		if res.Err != nil {
			out.Error = res.Err.Error()
		}
		c.Respond(out)
		g.leaveIfNotOwner(c)
	case *pb.Recommend:
		g.last = time.Now()
		ctx, cancel := g.env.msgCtx()
		defer cancel()
		r := g.recommend(ctx, int(m.N), m.SkipCache, filterFromPB(m))
		if m.Explain && r.Err == nil {
			g.explain(ctx, &r.Served.List)
		}
		c.Respond(recommendedToPB(r))
		g.runAfterReply()
		g.leaveIfNotOwner(c)
	case *pb.ResetUser:
		g.last = time.Now()
		ctx, cancel := g.env.msgCtx()
		defer cancel()
		var at time.Time
		if m.BuriedAt != nil {
			at = m.BuriedAt.AsTime()
		}
		out := &pb.UserReset{}
		if err := g.reset(ctx, at); err != nil {
			out.Error, out.Unavailable = err.Error(), errors.Is(err, ports.ErrUnavailable)
		}
		c.Respond(out)
		g.leaveIfNotOwner(c)
	case *idleCheck:
		if time.Since(g.last) >= g.env.cfg.PassivateAfter {
			g.stopIdleTicker()
			c.Poison(c.Self())
		}
	}
}

// leaveIfNotOwner poisons the grain once it answered when another member
// owns the user (see ownership): the next message reaches the owner.
func (g *userGrain) leaveIfNotOwner(c actor.Context) {
	if g.stop == nil || g.env.owner.owns(userKind, string(g.id)) {
		return
	}
	g.stopIdleTicker()
	c.Poison(c.Self())
}

func (g *userGrain) startIdleTicker(c actor.Context) {
	g.stop = make(chan struct{})
	every := max(g.env.cfg.PassivateAfter/4, time.Millisecond)
	root, self, stop := c.ActorSystem().Root, c.Self(), g.stop
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				root.Send(self, &idleCheck{})
			case <-stop:
				return
			}
		}
	}()
}

func (g *userGrain) stopIdleTicker() {
	if g.stop != nil {
		close(g.stop)
		g.stop = nil
	}
}

func interactionToPB(ev domain.Interaction) *pb.Interaction {
	out := &pb.Interaction{
		EventId: ev.EventID, UserId: string(ev.UserID), MovieId: string(ev.MovieID), Type: string(ev.Type),
		Weight: ev.Weight, Time: timestamppb.New(ev.Time), RecLogId: ev.RecLogID,
	}
	if ev.Value != nil {
		out.HasValue, out.Value = true, *ev.Value
	}
	if !ev.IngestedAt.IsZero() {
		out.IngestedAt = timestamppb.New(ev.IngestedAt)
	}
	return out
}

func interactionFromPB(m *pb.Interaction) domain.Interaction {
	ev := domain.Interaction{
		EventID: m.EventId, UserID: domain.UserID(m.UserId), MovieID: domain.MovieID(m.MovieId),
		Type: domain.EventType(m.Type), Weight: m.Weight, Time: m.Time.AsTime(), RecLogID: m.RecLogId,
	}
	if m.HasValue {
		v := m.Value
		ev.Value = &v
	}
	if m.IngestedAt != nil {
		ev.IngestedAt = m.IngestedAt.AsTime()
	}
	return ev
}

func recommendedToPB(r *recommended) *pb.Recommended {
	if r.Err != nil {
		return &pb.Recommended{Error: r.Err.Error(), Unavailable: errors.Is(r.Err, ports.ErrUnavailable)}
	}
	s := r.Served
	out := &pb.Recommended{
		RecLogId: s.RecLogID, UserId: string(s.UserID), ListTier: string(s.List.Tier), ModelVersion: s.List.ModelVersion,
		GeneratedAt: timestamppb.New(s.List.GeneratedAt), ServedBy: string(s.ServedBy), LatencyNanos: int64(s.Latency),
		ServedAt: timestamppb.New(s.ServedAt), Requested: int32(s.Requested),
		Items: make([]*pb.ScoredMovie, len(s.List.Items)),
	}
	for i, it := range s.List.Items {
		out.Items[i] = &pb.ScoredMovie{MovieId: string(it.MovieID), Score: it.Score, Title: it.Title}
		for _, r := range it.Because {
			out.Items[i].Because = append(out.Items[i].Because, &pb.Reason{MovieId: string(r.MovieID), Title: r.Title, Share: r.Share})
		}
	}
	return out
}

func recommendedFromPB(m *pb.Recommended) *recommended {
	if m.Error != "" {
		err := errors.New(m.Error)
		if m.Unavailable {
			err = remoteUnavailable{m.Error}
		}
		return &recommended{Err: err}
	}
	s := domain.Served{
		RecLogID: m.RecLogId, UserID: domain.UserID(m.UserId), ServedBy: domain.Tier(m.ServedBy),
		Latency: time.Duration(m.LatencyNanos), ServedAt: m.ServedAt.AsTime(), Requested: int(m.Requested),
		List: domain.RecList{Tier: domain.Tier(m.ListTier), ModelVersion: m.ModelVersion, GeneratedAt: m.GeneratedAt.AsTime(),
			Items: make([]domain.ScoredMovie, len(m.Items))},
	}
	for i, it := range m.Items {
		s.List.Items[i] = domain.ScoredMovie{MovieID: domain.MovieID(it.MovieId), Score: it.Score, Title: it.Title}
		for _, r := range it.Because {
			s.List.Items[i].Because = append(s.List.Items[i].Because, domain.Reason{MovieID: domain.MovieID(r.MovieId), Title: r.Title, Share: r.Share})
		}
	}
	return &recommended{Served: s}
}

// remoteUnavailable is an error from another node that wrapped
// ports.ErrUnavailable there; it still does here.
type remoteUnavailable struct{ msg string }

func (e remoteUnavailable) Error() string { return e.msg }
func (e remoteUnavailable) Unwrap() error { return ports.ErrUnavailable }

func filterFromPB(m *pb.Recommend) domain.Filter {
	f := domain.Filter{Genres: m.Genres}
	if len(m.Exclude) > 0 {
		f.Exclude = make(domain.MovieSet, len(m.Exclude))
		for _, id := range m.Exclude {
			f.Exclude[domain.MovieID(id)] = struct{}{}
		}
	}
	return f
}

func excludeToPB(set domain.MovieSet) []string {
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, string(id))
	}
	return out
}
