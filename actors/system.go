package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
	"github.com/marquee-recsys/marquee/training"
)

// rootName is the root actor's name; children's PIDs derive from it.
const rootName = "marquee"

// System is the running actor system seen from outside: the HTTP edge
// asks it for recommendations, tests and the demo loader apply events
// through it, and bootstrap stops it.
type System struct {
	as     *actor.ActorSystem
	env    *env
	root   *actor.PID
	users  *actor.PID
	cancel context.CancelFunc
	// cluster is the membership when clustered (nil on a single node);
	// keeperDone ends the singletons' keepalive loop.
	cluster    *cluster.Cluster
	keeperDone chan struct{}
	keeperWG   sync.WaitGroup
	// watching ends when the node stops following the registry's serving
	// model (Models.Watch).
	watching sync.WaitGroup

	stopOnce sync.Once
	stopErr  error
}

// Start builds the actor tree. Every field of d but Consumer is required.
func Start(cfg Config, d Deps) (*System, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Unservable == nil {
		d.Unservable = NewUnservable(d.Catalog)
	}
	cfg = cfg.withDefaults()
	base, cancel := context.WithCancel(context.Background())
	{
		rctx, rcancel := context.WithTimeout(base, 5*time.Second)
		if err := d.Unservable.Refresh(rctx); err != nil {
			d.Logger.Warn("hidden and deleted movies not read yet; the watch retries", "err", err)
		}
		rcancel()
	}
	logger := d.Logger
	libLogger := logger.With("lib", "protoactor")
	if cfg.Cluster != nil {
		libLogger = slog.New(quietHandler{libLogger.Handler(), slog.LevelWarn})
	}
	as := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return libLogger }))
	e := &env{
		Deps: d, cfg: cfg, base: base,
		// Fixed names make the PID known before the child exists, so the
		// env is complete (and immutable) before any actor reads it.
		analytics: as.NewLocalPID(rootName + "/analytics"),
		users:     as.NewLocalPID(rootName + "/users"),
		root:      as.Root,
		walker: &Walker{
			Cache: d.Cache, Vectors: d.Vectors, Batch: d.Batch, Popular: d.Popular, Catalog: d.Catalog,
			Metrics: d.Metrics, Logger: d.Logger, Now: d.Now, Serving: d.Models.Version,
			Depth: cfg.Depth, TierTimeout: cfg.TierTimeout, CacheTTL: cfg.CacheTTL, Unservable: d.Unservable,
			vectorSlots: make(chan struct{}, cfg.VectorSlots),
		},
	}
	reportModels(e)
	var cl *cluster.Cluster
	if cfg.Cluster != nil {
		var err error
		if cl, err = startCluster(as, e, *cfg.Cluster); err != nil {
			cancel()
			as.Shutdown()
			return nil, err
		}
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &rootActor{env: e} }, actor.WithSupervisor(rootStrategy()))
	root, err := as.Root.SpawnNamed(props, rootName)
	if err == nil {
		_, err = as.Root.RequestFuture(root, &topology{}, 5*time.Second).Result()
	}
	if err != nil {
		cancel()
		if cl != nil {
			_ = stopCluster(cl, logger)
		} else {
			as.Shutdown()
		}
		return nil, fmt.Errorf("start actor tree: %w", err)
	}
	s := &System{as: as, env: e, root: root, users: e.users, cancel: cancel, cluster: cl, keeperDone: make(chan struct{})}
	s.watching.Go(func() { e.Models.Watch(e.base, e.cfg.ModelPoll, e.Logger) })
	s.watching.Go(func() { e.Unservable.Watch(e.base, e.cfg.UnservablePoll, e.Logger) })
	if cl != nil && len(e.singletons) > 0 {
		s.keeperWG.Add(1)
		go s.keepSingletons(cfg.Cluster.KeepaliveEvery)
	}
	return s, nil
}

// reportModels reports the serving model and each switch (which Watch,
// started once the tree runs, follows from the registry) in the log and
// in marquee_serving_model{version}. It runs before any actor that could
// switch models exists.
func reportModels(e *env) {
	if v := e.Models.Version(); v != "" {
		e.Metrics.ServingModel.WithLabelValues(v).Set(1)
	}
	e.Models.OnSwitch = func(from, to string) {
		if from != "" {
			e.Metrics.ServingModel.DeleteLabelValues(from)
		}
		e.Metrics.ServingModel.WithLabelValues(to).Set(1)
		e.Logger.Info("serving a new model", "from", from, "to", to)
	}
}

func (d Deps) validate() error {
	var missing []string
	for name, ok := range map[string]bool{
		"Log": d.Log != nil, "Profiles": d.Profiles != nil, "Cache": d.Cache != nil, "Vectors": d.Vectors != nil,
		"Batch": d.Batch != nil, "Popular": d.Popular != nil, "Catalog": d.Catalog != nil,
		"Analytics": d.Analytics != nil, "Models": d.Models != nil, "Metrics": d.Metrics != nil, "Logger": d.Logger != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("actors: missing dependencies %v", missing)
	}
	return nil
}

// Unservable returns the node's copy of the hidden and deleted movies.
func (s *System) Unservable() *Unservable { return s.env.Unservable }

// ServingModel returns the version of the model this node serves ("" for
// none).
func (s *System) ServingModel() string { return s.env.Models.Version() }

// Apply stores and applies events through their users' actors, exactly as
// the ingest actor does for consumed batches. It returns once all are
// stored. The embedded demo loader and tests use it; production events
// come through the event bus.
func (s *System) Apply(ctx context.Context, events []domain.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return dispatch(s.env, events)
}

// Train asks the trainer for a run. While one runs, it returns that job
// and started is false.
func (s *System) Train(ctx context.Context, reason string, opts training.Options) (job training.Job, started bool, err error) {
	if s.cluster != nil && s.env.Training != nil {
		msg := &pb.Train{Reason: reason}
		if opts.Tune != nil {
			msg.HasTune, msg.Tune = true, *opts.Tune
		}
		res, err := s.askTrainerGrain(ctx, msg)
		if err != nil {
			return training.Job{}, false, err
		}
		r := res.(*pb.TrainAnswer)
		return jobFromPB(r.Job), r.Started, nil
	}
	res, err := s.ask(ctx, "trainer", &TrainRequest{Reason: reason, Options: opts})
	if err != nil {
		return training.Job{}, false, err
	}
	r := res.(*TrainReply)
	return r.Job, r.Started, nil
}

// Job returns a training job by id (the running one or a recent one).
func (s *System) Job(ctx context.Context, id string) (training.Job, bool, error) {
	if s.cluster != nil && s.env.Training != nil {
		res, err := s.askTrainerGrain(ctx, &pb.JobQuery{Id: id})
		if err != nil {
			return training.Job{}, false, err
		}
		r := res.(*pb.JobAnswer)
		return jobFromPB(r.Job), r.Found, nil
	}
	res, err := s.ask(ctx, "trainer", &jobQuery{ID: id})
	if err != nil {
		return training.Job{}, false, err
	}
	r := res.(*jobReply)
	return r.Job, r.Found, nil
}

// Training returns the trainer's running (or last) job and the ones
// before it, newest first.
func (s *System) Training(ctx context.Context) (current *training.Job, recent []training.Job, err error) {
	if s.cluster != nil && s.env.Training != nil {
		res, err := s.askTrainerGrain(ctx, &pb.TrainingQuery{})
		if err != nil {
			return nil, nil, err
		}
		r := res.(*pb.TrainingAnswer)
		if r.Current != nil {
			j := jobFromPB(r.Current)
			current = &j
		}
		for _, j := range r.Recent {
			recent = append(recent, jobFromPB(j))
		}
		return current, recent, nil
	}
	res, err := s.ask(ctx, "trainer", &trainingQuery{})
	if err != nil {
		return nil, nil, err
	}
	st := res.(*TrainingStatus)
	return st.Current, st.Recent, nil
}

// askTrainerGrain asks the cluster's trainer singleton, wherever it runs.
func (s *System) askTrainerGrain(ctx context.Context, msg any) (any, error) {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	res, err := s.env.grains.call(trainerKind, trainerKind, msg, timeout)
	if err != nil {
		return nil, fmt.Errorf("trainer did not answer: %w", err)
	}
	switch res.(type) {
	case *pb.TrainAnswer, *pb.JobAnswer, *pb.TrainingAnswer:
		return res, nil
	}
	return nil, fmt.Errorf("trainer answered %T: %w", res, ports.ErrUnavailable)
}

// ask requests from a child of the root by name.
func (s *System) ask(ctx context.Context, child string, msg any) (any, error) {
	if child == "trainer" && s.env.Training == nil {
		return nil, training.ErrDisabled
	}
	if child == "archiver" && (s.env.Archive == nil || s.env.Ledger == nil) {
		return nil, ErrArchiverDisabled
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	res, err := s.as.Root.RequestFuture(s.as.NewLocalPID(rootName+"/"+child), msg, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("%s did not answer: %w: %w", child, ports.ErrUnavailable, err)
	}
	return res, nil
}

// request sends msg to the users router and waits for the reply, bounded
// by both ctx and the configured message timeout.
func (s *System) request(ctx context.Context, msg userMessage) (any, error) {
	timeout := s.env.cfg.MessageTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	res, err := s.env.askUser(msg, timeout)()
	if errors.Is(err, actor.ErrTimeout) && !errors.Is(err, ports.ErrUnavailable) {
		return nil, fmt.Errorf("user actor %s did not answer in %s: %w", msg.user(), timeout, ports.ErrUnavailable)
	}
	return res, err
}

// Stop stops the tree: the ingest actor first (its consumer finishes the
// batch in hand and commits), then the user actors, then analytics after
// draining what it was sent. It waits at most until ctx ends. Calling it
// again returns the first call's result (Proto.Actor's Shutdown panics if
// called twice).
func (s *System) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *System) stop(ctx context.Context) error {
	defer s.watching.Wait()
	defer s.cancel()
	if s.cluster == nil {
		defer s.as.Shutdown()
	}
	close(s.keeperDone)
	s.keeperWG.Wait()
	if s.env.Archive != nil && s.env.Ledger != nil {
		// A run cut off mid-way leaves at most an orphan file, which the
		// next run's cleanup removes.
		if err := waitFuture(ctx, s.as.Root.StopFuture(s.as.NewLocalPID(rootName+"/archiver"))); err != nil {
			return fmt.Errorf("stop archiver: %w", err)
		}
	}
	if s.env.Training != nil {
		// A running job is cancelled: the serving model is untouched until
		// a job publishes, so stopping mid-run loses nothing.
		if err := waitFuture(ctx, s.as.Root.StopFuture(s.as.NewLocalPID(rootName+"/trainer"))); err != nil {
			return fmt.Errorf("stop trainer: %w", err)
		}
	}
	ingest := s.as.NewLocalPID(rootName + "/ingest")
	if s.env.Consumer != nil {
		if err := waitFuture(ctx, s.as.Root.StopFuture(ingest)); err != nil {
			return fmt.Errorf("stop ingest: %w", err)
		}
	}
	if s.cluster != nil {
		// Leaving poisons the grains here (they flush to analytics) and
		// shuts the actor system down; the actors below still stop.
		if err := stopCluster(s.cluster, s.env.Logger); err != nil {
			s.env.Logger.Warn("leaving the cluster failed", "err", err)
		}
	} else if err := waitFuture(ctx, s.as.Root.PoisonFuture(s.users)); err != nil {
		return fmt.Errorf("stop user actors: %w", err)
	}
	if err := waitFuture(ctx, s.as.Root.PoisonFuture(s.env.analytics)); err != nil {
		return fmt.Errorf("flush analytics: %w", err)
	}
	return waitFuture(ctx, s.as.Root.StopFuture(s.root))
}

func waitFuture(ctx context.Context, f *actor.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
