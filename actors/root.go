package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// rootActor is the top of Marquee's tree. It starts the long-lived
// children and supervises them: a crashing child is restarted (its state
// is in the ports), and one that keeps crashing is stopped rather than
// restarted forever.
type rootActor struct {
	env       *env
	users     *actor.PID
	analytics *actor.PID
}

// rootStrategy restarts a failed child up to 10 times a minute.
func rootStrategy() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(10, time.Minute, func(any) actor.Directive { return actor.RestartDirective })
}

// userStrategy restarts a failed user actor (which reloads its state) up
// to 3 times in 10 seconds; beyond that the user actor is stopped and the
// next message for the user starts a fresh one.
func userStrategy() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(3, 10*time.Second, func(any) actor.Directive { return actor.RestartDirective })
}

// Receive implements actor.Actor.
func (a *rootActor) Receive(c actor.Context) {
	switch c.Message().(type) {
	case *actor.Started:
		var err error
		a.analytics, err = c.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &analyticsActor{env: a.env} }), "analytics")
		a.must(err)
		clustered := a.env.grains != nil
		if !clustered {
			// Clustered, user actors are grains placed by the cluster.
			a.users, err = c.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newUsersActor(a.env) },
				actor.WithSupervisor(userStrategy())), "users")
			a.must(err)
		}
		if a.env.Training != nil && !clustered { // clustered: a cluster singleton
			trainer := c.Self().Id + "/trainer"
			_, err = c.SpawnNamed(trainerProps(a.env, c.ActorSystem()), "trainer")
			a.must(err)
			if a.env.cfg.TrainSchedule != nil {
				pid := c.ActorSystem().NewLocalPID(trainer)
				_, err = c.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
					return &schedulerActor{env: a.env, schedule: a.env.cfg.TrainSchedule, trainer: pid}
				}), "scheduler")
				a.must(err)
			}
		}
		if a.env.Archive != nil && a.env.Ledger != nil && !clustered { // clustered: a cluster singleton
			_, err = c.SpawnNamed(NewArchiverProps(ArchiverDeps{Ledger: a.env.Ledger, Archive: a.env.Archive,
				Logger: a.env.Logger.With("actor", "archiver"), Now: a.env.Now, Metrics: a.env.Metrics}, a.env.cfg.Archiver), "archiver")
			a.must(err)
		}
		if a.env.Consumer != nil {
			_, err = c.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &ingestActor{env: a.env} }), "ingest")
			a.must(err)
		}
	case *topology:
		c.Respond(&topologyReply{users: a.users, analytics: a.analytics})
	}
}

// trainerProps is the trainer coordinator, named marquee/trainer (under
// the root on a single node, as a cluster singleton's actor clustered).
func trainerProps(e *env, as *actor.ActorSystem) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &trainerActor{env: e, pipeline: e.Training, nShards: e.cfg.Shards, hook: e.cfg.shardHook}
	}, actor.WithSupervisor(shardStrategy{coordinator: as.NewLocalPID(rootName + "/trainer")}))
}

// must logs a spawn failure; names are fixed and unique under this parent,
// so it only fires if the root was restarted while its old children live.
func (a *rootActor) must(err error) {
	if err != nil {
		a.env.Logger.Error("spawning a child of the root actor failed", "err", err)
	}
}
