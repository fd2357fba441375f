package training

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
	"github.com/marquee-recsys/marquee/ports"
)

// Config tunes the pipeline.
type Config struct {
	// Params are used as they are when Tune is off. When it is on, they
	// give every candidate's iterations, solver, seed and workers, and
	// their factors, α and λ are the incumbent's when no model serves.
	Params als.Params
	Tune   bool
	// TuneTrials is the size of the search (tune.Config.Trials; 0: 20).
	// TuneBudget caps its time (0: no cap); a search it cuts short is
	// reported, and is not reproducible.
	TuneTrials int
	TuneBudget time.Duration
	// MinGain is the least gain over the incumbent's holdout NDCG@K, as a
	// fraction of it, that tuned parameters need besides beating the
	// retrain noise (tune.DuelConfig.MinGain).
	MinGain float64
	// Split carves the evaluation holdout (eval.DefaultSplit when zero).
	Split eval.SplitConfig
	// K is the cutoff of the reported metrics and of the gate (10).
	K int
	// Depth is the length of the batch lists (100).
	Depth int
	// Prune makes each job end by dropping the models the registry no
	// longer keeps, with their item vectors: all but the serving one, the
	// one it replaced, and the newest KeepCandidates never served.
	Prune          bool
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
// tuning is on, chooses the parameters (see choose): the search proposes
// a candidate from a validation split of what remains, the duel on the
// evaluation split decides whether it replaces the incumbent's.
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
	if h.Users == 0 {
		plan.Fit = ds.Matrix // nothing held out: one fit is both
	}
	if !cfg.Tune || h.Users == 0 {
		return plan, nil
	}
	phase(PhaseTuning)
	if err := p.choose(ctx, cfg, h, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// Finish evaluates the holdout fit (plan.Params on plan.Fit) on the
// holdout beside the popularity baseline, saves the full fit (the same
// parameters and seed on all data) as a model carrying those metrics, and
// — unless the gate keeps it back — publishes the full fit: item vectors,
// the batch lists and user vectors, then promotion.
func (p *Pipeline) Finish(ctx context.Context, plan *Plan, holdout, full Fitted, phase func(string)) (*Outcome, error) {
	cfg := p.cfg()
	defer p.prune(ctx)
	model, err := p.evaluate(ctx, cfg, plan, holdout, full)
	if err != nil {
		return nil, err
	}
	if err := p.Sinks.Models.Save(ctx, model); err != nil {
		return nil, fmt.Errorf("save %s: %w", model.Version, err)
	}
	reason, ok := p.gate(ctx, cfg, model)
	out := &Outcome{Model: model, GateReason: reason}
	if !ok {
		p.Log.Warn("model kept as a candidate", "version", model.Version, "reason", reason)
		return out, nil
	}
	phase(PhasePublishing)
	if err := p.publish(ctx, cfg, plan, full.Users, model); err != nil {
		return nil, err
	}
	out.Promoted = true
	return out, nil
}

func (p *Pipeline) evaluate(ctx context.Context, cfg Config, plan *Plan, holdout, full Fitted) (*domain.Model, error) {
	now := p.Now()
	model, err := als.ModelFromFactors(Version(now), plan.Data.Movies, full.Items, plan.Params, now)
	if err != nil {
		return nil, err
	}
	model.Iterations, model.Solver = plan.Params.Iterations, plan.Params.Solver
	if model.Solver == "" {
		model.Solver = als.SolverCG
	}
	model.Users, model.Interactions = len(plan.Data.Users), plan.Data.Events
	model.Validation = plan.Validation
	model.Metrics = maps.Clone(plan.Selection)
	if model.Metrics == nil {
		model.Metrics = map[string]float64{}
	}
	if plan.HoldoutUsers() > 0 {
		m, err := eval.Evaluate(ctx, plan.Fit, plan.Holdout, eval.Factors{Users: holdout.Users, Items: holdout.Items}, cfg.K)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		base, err := eval.Evaluate(ctx, plan.Fit, plan.Holdout, eval.Popularity(plan.Fit), cfg.K)
		if err != nil {
			return nil, fmt.Errorf("evaluate the popularity baseline: %w", err)
		}
		maps.Copy(model.Metrics, m.Map(""))
		maps.Copy(model.Metrics, base.Map("popularity_"))
		model.Metrics["holdout_users"] = float64(m.Users)
		p.Log.Info("model evaluated", "version", model.Version, "model", m.String(), "popularity", base.String())
	}
	model.TrainSeconds = p.Now().Sub(plan.Started).Seconds()
	return model, nil
}

func (p *Pipeline) publish(ctx context.Context, cfg Config, plan *Plan, users *als.Factors, m *domain.Model) error {
	ds := plan.Data
	if err := p.Sinks.Vectors.PutItemVectors(ctx, m); err != nil {
		return fmt.Errorf("publish %s: item vectors: %w", m.Version, err)
	}
	// A user without a positive entry (only dislikes, or only ratings
	// below the positive threshold) has the zero vector, which ranks
	// every movie alike: the fold-in gives no vector for them
	// (als.ErrNoPreference), and neither does publication. Their batch
	// list is published empty, replacing an older model's, so serving
	// falls through to the popular tier.
	rows := make([]int32, 0, len(ds.Users))
	at := make([]int, len(ds.Users)) // user → index in rows, or -1
	for u := range ds.Users {
		at[u] = -1
		if _, vals := plan.Full.Row(u); slices.ContainsFunc(vals, func(v float32) bool { return v > 0 }) {
			at[u] = len(rows)
			rows = append(rows, int32(u))
		}
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
		l := domain.RecList{Tier: domain.TierBatch, ModelVersion: m.Version, GeneratedAt: now, Items: []domain.ScoredMovie{}}
		var vec []float32
		if at[u] >= 0 {
			top := tops[at[u]]
			l.Items = make([]domain.ScoredMovie, len(top))
			for j, s := range top {
				l.Items[j] = domain.ScoredMovie{MovieID: ds.Movies[s.Index], Score: float64(s.Score)}
			}
			vec = users.Row(u)
		}
		lists[u] = ports.BatchList{UserID: id, List: l}
		profiles[u] = domain.Profile{UserID: id, Vector: vec, ModelVersion: m.Version,
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
