package training

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
	"github.com/marquee-recsys/marquee/domain/tune"
	"github.com/marquee-recsys/marquee/ports"
)

// Config tunes the pipeline.
type Config struct {
	// Params are used as they are when Tune is off, and as the base of the
	// search (iterations, solver, seed) when it is on.
	Params     als.Params
	Tune       bool
	TuneBudget time.Duration
	TuneTrials int
	// Split carves the evaluation holdout (eval.DefaultSplit when zero).
	Split eval.SplitConfig
	// K is the cutoff of the reported metrics and of the gate (10).
	K int
	// Depth is the length of the batch lists (100).
	Depth int
	// GateTolerance: a model whose holdout NDCG@K is below the serving
	// model's by more than this fraction is kept as a candidate (0.02).
	GateTolerance float64
	// KeepCandidates is how many models never served the registry keeps
	// beside the serving one and the one it replaced (negative: keep
	// every model); the others, and their item vectors, are dropped after
	// each job.
	KeepCandidates int
}

// Sinks are where a model is published.
type Sinks struct {
	Vectors  ports.VectorIndex
	Batch    ports.BatchStore
	Models   ports.ModelStore
	Profiles ports.ProfileStore
}

// TombstoneRetention is how long a deleted user's tombstone outlives the
// deletion once it is done (training prunes older ones when it starts):
// longer than any event of theirs can wait in the event stream (Kafka
// keeps a topic's records seven days by default) or in a training that
// loaded them, so that none comes back.
const TombstoneRetention = 30 * 24 * time.Hour

// Pipeline is the loading, evaluation and publishing around the fitting
// that the trainer actors do; it implements actors.TrainingPipeline.
type Pipeline struct {
	Config  Config
	Sources []Scanner
	Sinks   Sinks
	// Tombstones are the deleted users, when deletion is on: their events
	// ingested before the deletion are not loaded, and what a run that
	// loaded them before they were deleted publishes of them is scrubbed.
	Tombstones ports.Tombstones
	Log        *slog.Logger
	Now        func() time.Time
}

func (p *Pipeline) cfg() Config {
	c := p.Config
	if c.K == 0 {
		c.K = 10
	}
	if c.Depth == 0 {
		c.Depth = 100
	}
	if c.Split == (eval.SplitConfig{}) {
		c.Split = eval.DefaultSplit()
	}
	return c
}

// Prepare loads all data, holds out the evaluation entries and, when
// tuning is on, chooses the hyperparameters on a validation split of what
// remains (never on the evaluation holdout).
func (p *Pipeline) Prepare(ctx context.Context, opts Options, phase func(string)) (*Plan, error) {
	cfg, start := p.cfg(), p.Now()
	if opts.Tune != nil {
		cfg.Tune = *opts.Tune
	}
	sources := p.Sources
	if p.Tombstones != nil {
		if n, err := p.Tombstones.Prune(ctx, start.Add(-TombstoneRetention)); err != nil {
			p.Log.Warn("pruning tombstones failed", "err", err)
		} else if n > 0 {
			p.Log.Info("tombstones pruned", "users", n)
		}
		buried, err := p.Tombstones.All(ctx)
		if err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		sources = make([]Scanner, len(p.Sources))
		for i, s := range p.Sources {
			sources[i] = WithoutBuried(s, buried)
		}
	}
	ds, err := Load(ctx, sources...)
	if err != nil {
		return nil, err
	}
	if ds.Events == 0 {
		return nil, ErrNoData
	}
	h, err := eval.Split(ds.Matrix, ds.Times, cfg.Split)
	if err != nil {
		return nil, fmt.Errorf("evaluation split: %w", err)
	}
	p.Log.Info("training data loaded", "users", len(ds.Users), "movies", len(ds.Movies), "events", ds.Events,
		"entries", ds.Matrix.NNZ(), "holdout_users", h.Users, "holdout_entries", h.Held)
	plan := &Plan{Data: ds, Fit: h.Train, Full: ds.Matrix, Holdout: h.Items, Params: cfg.Params, Started: start}
	if !cfg.Tune || h.Users == 0 {
		return plan, nil
	}
	phase(PhaseTuning)
	res, err := tune.Search(ctx, h.Train, tune.Config{
		Trials: cfg.TuneTrials, Budget: cfg.TuneBudget, K: cfg.K, Base: cfg.Params,
		Split: cfg.Split, Times: h.Times, Seed: uint64(cfg.Params.Seed),
	}, func(t tune.Trial) {
		p.Log.Info("tuning trial", "trial", t.Number, "factors", t.Params.Factors, "alpha", t.Params.Alpha,
			"lambda", t.Params.Lambda, "validation", t.Validation.String(), "seconds", t.Seconds)
	})
	if err != nil {
		// A failed search costs the tuning, not the run.
		p.Log.Warn("hyperparameter search failed; training with the configured parameters", "err", err)
		return plan, nil
	}
	plan.Params = res.Best
	best := res.Trials[res.BestTrial]
	plan.Validation = best.Validation.Map("")
	maps.Copy(plan.Validation, res.Popularity.Map("popularity_"))
	plan.Validation["trials"] = float64(len(res.Trials))
	p.Log.Info("hyperparameters chosen", "factors", res.Best.Factors, "alpha", res.Best.Alpha, "lambda", res.Best.Lambda,
		"trials", len(res.Trials), "stopped", res.Stopped)
	return plan, nil
}

// Finish evaluates the model (fitted on plan.Fit; fitUsers are those user
// vectors) on the holdout beside the popularity baseline, saves it, and —
// unless the gate keeps it back — publishes it: item vectors, the batch
// lists and user vectors computed from everything (users), then promotion.
func (p *Pipeline) Finish(ctx context.Context, plan *Plan, fitUsers, users, items *als.Factors, phase func(string)) (*Outcome, error) {
	cfg := p.cfg()
	defer p.prune(ctx)
	model, err := p.evaluate(ctx, cfg, plan, fitUsers, items)
	if err != nil {
		return nil, err
	}
	if err := p.Sinks.Models.Save(ctx, model); err != nil {
		return nil, fmt.Errorf("save %s: %w", model.Version, err)
	}
	out := &Outcome{Model: model}
	if reason, ok := p.gate(ctx, cfg, model); !ok {
		out.GateReason = reason
		p.Log.Warn("model kept as a candidate", "version", model.Version, "reason", reason)
		return out, nil
	}
	phase(PhasePublishing)
	if err := p.publish(ctx, cfg, plan, users, model); err != nil {
		return nil, err
	}
	out.Promoted, out.GateReason = true, "passed"
	return out, nil
}

func (p *Pipeline) evaluate(ctx context.Context, cfg Config, plan *Plan, fitUsers, items *als.Factors) (*domain.Model, error) {
	now := p.Now()
	model, err := als.ModelFromFactors(Version(now), plan.Data.Movies, items, plan.Params, now)
	if err != nil {
		return nil, err
	}
	model.Iterations, model.Solver = plan.Params.Iterations, plan.Params.Solver
	if model.Solver == "" {
		model.Solver = als.SolverCG
	}
	model.Users, model.Interactions = len(plan.Data.Users), plan.Data.Events
	model.Validation = plan.Validation
	model.Metrics = map[string]float64{}
	if plan.HoldoutUsers() > 0 {
		m, err := eval.Evaluate(ctx, plan.Fit, plan.Holdout, eval.Factors{Users: fitUsers, Items: items}, cfg.K)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		base, err := eval.Evaluate(ctx, plan.Fit, plan.Holdout, eval.Popularity(plan.Fit), cfg.K)
		if err != nil {
			return nil, fmt.Errorf("evaluate the popularity baseline: %w", err)
		}
		model.Metrics = m.Map("")
		maps.Copy(model.Metrics, base.Map("popularity_"))
		model.Metrics["holdout_users"] = float64(m.Users)
		p.Log.Info("model evaluated", "version", model.Version, "model", m.String(), "popularity", base.String())
	}
	model.TrainSeconds = p.Now().Sub(plan.Started).Seconds()
	return model, nil
}

// gate compares the new model's holdout NDCG@K with the serving model's.
// Each was measured on the holdout of its own run; the data grows between
// runs, so the comparison tolerates a small drop (GateTolerance).
func (p *Pipeline) gate(ctx context.Context, cfg Config, m *domain.Model) (string, bool) {
	key := fmt.Sprintf("ndcg@%d", cfg.K)
	cur, err := p.Sinks.Models.Current(ctx)
	if err != nil {
		return "no serving model", true
	}
	was, had := cur.Metrics[key]
	now, has := m.Metrics[key]
	switch {
	case !had || was <= 0:
		return "the serving model has no " + key, true
	case !has:
		return "no holdout to evaluate on", false
	case now < was*(1-cfg.GateTolerance):
		return fmt.Sprintf("%s %.4f is more than %.0f%% below the serving model's %.4f", key, now, 100*cfg.GateTolerance, was), false
	}
	return "", true
}

func (p *Pipeline) publish(ctx context.Context, cfg Config, plan *Plan, users *als.Factors, m *domain.Model) error {
	ds := plan.Data
	if err := p.Sinks.Vectors.PutItemVectors(ctx, m); err != nil {
		return fmt.Errorf("publish %s: item vectors: %w", m.Version, err)
	}
	rows := make([]int32, len(ds.Users))
	for u := range rows {
		rows[u] = int32(u)
	}
	start := time.Now()
	itemF := &als.Factors{N: len(m.Movies), K: m.Factors, Data: m.ItemFactors}
	tops, err := als.TopKBatch(ctx, users, itemF, rows, cfg.Depth, plan.Full, 0)
	if err != nil {
		return fmt.Errorf("batch lists: %w", err)
	}
	now := p.Now()
	lists := make([]ports.BatchList, len(ds.Users))
	profiles := make([]domain.Profile, len(ds.Users))
	for u, id := range ds.Users {
		l := domain.RecList{Tier: domain.TierBatch, ModelVersion: m.Version, GeneratedAt: now, Items: make([]domain.ScoredMovie, len(tops[u]))}
		for j, s := range tops[u] {
			l.Items[j] = domain.ScoredMovie{MovieID: ds.Movies[s.Index], Score: float64(s.Score)}
		}
		lists[u] = ports.BatchList{UserID: id, List: l}
		profiles[u] = domain.Profile{UserID: id, Vector: users.Row(u), ModelVersion: m.Version,
			InteractionCount: ds.UserEvents[u], LastEventAt: ds.UserLast[u], UpdatedAt: now}
	}
	p.Log.Info("batch lists computed", "users", len(lists), "depth", cfg.Depth, "seconds", time.Since(start).Seconds())
	lists, profiles, err = p.unburied(ctx, plan, lists, profiles)
	if err != nil {
		return err
	}
	if err := p.Sinks.Batch.PutAll(ctx, m.Version, lists); err != nil {
		return fmt.Errorf("publish %s: batch lists: %w", m.Version, err)
	}
	if err := p.Sinks.Profiles.PutTrained(ctx, profiles); err != nil {
		return fmt.Errorf("publish %s: user vectors: %w", m.Version, err)
	}
	if err := p.scrubBuried(ctx, plan); err != nil {
		return err
	}
	if err := p.Sinks.Models.Promote(ctx, m.Version); err != nil {
		return fmt.Errorf("promote %s: %w", m.Version, err)
	}
	return nil
}
