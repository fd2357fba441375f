package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marquee-recsys/marquee/ports"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
)

// ClusterConfig makes the actor system a member of a Proto.Actor cluster:
// user actors become grains of kind "user" placed by the disthash identity
// lookup, and the scheduler and the archiver run once per cluster.
type ClusterConfig struct {
	// Name is the cluster's name; members of other clusters are ignored.
	Name string
	// BindHost and BindPort are where the remote (gRPC) listener binds.
	BindHost string
	BindPort int
	// Advertise is the host:port other members dial to reach this one.
	Advertise string
	// Provider finds the members (automanaged, Kubernetes).
	Provider cluster.ClusterProvider
	// KeepaliveEvery is how often each node asks for the singletons, which
	// (re)activates them on the member that owns them (default 2s).
	KeepaliveEvery time.Duration
}

// Kinds of the cluster singletons: one grain each, with the kind as its
// identity, so exactly one member runs it. The trainer singleton also runs
// the scheduler, so that a scheduled run starts where the trainer is.
const (
	trainerKind  = "trainer"
	archiverKind = "archiver"
)

// startCluster joins the cluster. Proto.Actor panics when a port is taken
// or a provider fails to start; that becomes an error here, so that a
// misconfigured node stops with a message instead of a stack trace.
func startCluster(as *actor.ActorSystem, e *env, cc ClusterConfig) (cl *cluster.Cluster, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("start cluster member on %s:%d (advertised as %s): %v", cc.BindHost, cc.BindPort, cc.Advertise, r)
		}
	}()
	rc := remote.Configure(cc.BindHost, cc.BindPort, remote.WithAdvertisedHost(cc.Advertise))
	kinds := []*cluster.Kind{
		cluster.NewKind(userKind, actor.PropsFromProducer(func() actor.Actor { return newUserGrain(e) })),
	}
	if e.Training != nil {
		kinds = append(kinds, cluster.NewKind(shardKind, actor.PropsFromProducer(func() actor.Actor { return shardGrain{} })))
		children := []singletonChild{{name: "trainer", props: trainerProps(e, as)}}
		if e.cfg.TrainSchedule != nil {
			children = append(children, singletonChild{name: "scheduler", props: actor.PropsFromProducer(func() actor.Actor {
				return &schedulerActor{env: e, schedule: e.cfg.TrainSchedule, trainer: as.NewLocalPID(rootName + "/trainer")}
			})})
		}
		kinds = append(kinds, cluster.NewKind(trainerKind, actor.PropsFromProducer(func() actor.Actor {
			return &singletonGrain{env: e, kind: trainerKind, children: children}
		})))
	}
	if e.Archive != nil && e.Ledger != nil {
		children := []singletonChild{{name: "archiver", props: NewArchiverProps(ArchiverDeps{Ledger: e.Ledger, Archive: e.Archive,
			Logger: e.Logger.With("actor", "archiver"), Now: e.Now, Metrics: e.Metrics}, e.cfg.Archiver)}}
		kinds = append(kinds, cluster.NewKind(archiverKind, actor.PropsFromProducer(func() actor.Actor {
			return &singletonGrain{env: e, kind: archiverKind, children: children}
		})))
	}
	for _, k := range kinds {
		if k.Kind == trainerKind || k.Kind == archiverKind {
			e.singletons = append(e.singletons, k.Kind)
		}
	}
	cfg := cluster.Configure(cc.Name, cc.Provider, disthash.New(), rc, cluster.WithKinds(kinds...))
	cl = cluster.New(as, cfg)
	e.owner = newOwnership(cl)
	e.grains = &grainClient{cl: cl, root: as.Root, owner: e.owner}
	cl.StartMember()
	return cl, nil
}

// stopCluster leaves the cluster gracefully: the provider deregisters this
// member, the grains here are poisoned (their state is in the ports), and
// the remote listener stops. The library's Shutdown also shuts the actor
// system down, so System.stop must not do it again (that panics), and it
// may panic itself on a half-started member: recovered.
func stopCluster(cl *cluster.Cluster, logger *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("leave cluster: %v", r)
		}
	}()
	cl.Shutdown(true)
	logger.Info("left the cluster", "address", cl.ActorSystem.Address())
	return nil
}

// askUserCluster sends a user message to the user's grain, wherever it
// runs, and converts the protobuf answer back.
func (e *env) askUserCluster(msg userMessage, timeout time.Duration) func() (any, error) {
	var req any
	switch m := msg.(type) {
	case *applyEvents:
		out := &pb.ApplyEvents{UserId: string(m.User), Events: make([]*pb.Interaction, len(m.Events))}
		for i, ev := range m.Events {
			out.Events[i] = interactionToPB(ev)
		}
		req = out
	case *recommend:
		req = &pb.Recommend{UserId: string(m.User), N: int32(m.N), SkipCache: m.CacheFailed,
			Genres: m.Filter.Genres, Exclude: excludeToPB(m.Filter.Exclude), Explain: m.Explain}
	case *resetUser:
		out := &pb.ResetUser{UserId: string(m.User)}
		if !m.BuriedAt.IsZero() {
			out.BuriedAt = timestamppb.New(m.BuriedAt)
		}
		req = out
	default:
		return func() (any, error) { return nil, fmt.Errorf("no grain message for %T", msg) }
	}
	done := make(chan struct{})
	var res any
	var err error
	go func() {
		defer close(done)
		res, err = e.grains.call(userKind, string(msg.user()), req, timeout)
	}()
	return func() (any, error) {
		<-done
		if err != nil {
			return nil, err
		}
		switch r := res.(type) {
		case *pb.Applied:
			a := &applied{Inserted: int(r.Inserted)}
			if r.Error != "" {
				a.Err = errors.New(r.Error)
			}
			return a, nil
		case *pb.Recommended:
			return recommendedFromPB(r), nil
		case *pb.UserReset:
			var err error
			if r.Error != "" {
				err = errors.New(r.Error)
				if r.Unavailable {
					err = remoteUnavailable{r.Error}
				}
			}
			return &userReset{Err: err}, nil
		}
		return nil, fmt.Errorf("user grain %s answered %T: %w", msg.user(), res, ports.ErrUnavailable)
	}
}

// keepSingletons asks for every singleton on a period, which activates
// each on the member that owns its identity, and again on another member
// once that one left. It logs where each runs when that changes.
func (s *System) keepSingletons(every time.Duration) {
	defer s.keeperWG.Done()
	where := map[string]string{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, kind := range s.env.singletons {
			res, err := s.env.grains.call(kind, kind, &pb.Keepalive{From: s.as.Address()}, every)
			if ack, ok := res.(*pb.KeepaliveAck); ok && err == nil && ack.Address != "" && where[kind] != ack.Address {
				where[kind] = ack.Address
				s.env.Logger.Info("cluster singleton placed", "singleton", kind, "address", ack.Address)
			}
		}
		select {
		case <-t.C:
		case <-s.keeperDone:
			return
		}
	}
}

// quietHandler drops records below a level: the cluster library narrates
// every gossip round and topology change at info.
type quietHandler struct {
	slog.Handler
	min slog.Level
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as), h.min}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name), h.min}
}
