package training

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
	"github.com/marquee-recsys/marquee/domain/tune"
	"github.com/marquee-recsys/marquee/ports"
)

// choose sets plan.Params to the parameters the job fits when tuning is
// on, in three steps, all on this run's data:
//
//  1. The incumbent parameters are those of the serving model (its
//     factors, α and λ; iterations, solver and seed are the configured
//     ones), or the configured parameters when no model serves.
//  2. tune.Search proposes a candidate: the best of a fixed number of
//     trials, the incumbent first, each fitted on a validation split of
//     the evaluation split's training matrix and scored there.
//  3. tune.Duel fits the candidate and the incumbent (twice, with two
//     seeds, for the retrain noise) on the evaluation split's training
//     matrix and scores them on the evaluation holdout; the candidate
//     replaces the incumbent only if it beats it by more than the noise
//     and Config.MinGain. Otherwise the job refits the incumbent's
//     parameters on the new data.
//
// The search and the duel record what they measured in plan.Validation
// and plan.Selection. A failed search or duel costs the tuning, not the
// run: the job fits the incumbent parameters. Only a cancelled context
// fails the job.
func (p *Pipeline) choose(ctx context.Context, cfg Config, h *eval.Holdout, plan *Plan) error {
	inc, from := p.incumbent(ctx, cfg.Params)
	plan.Params = inc
	planned := cfg.TuneTrials
	if planned == 0 {
		planned = tune.DefaultTrials
	}
	res, err := tune.Search(ctx, h.Train, tune.Config{
		Trials: planned, Budget: cfg.TuneBudget, K: cfg.K, Base: inc,
		Split: cfg.Split, Times: h.Times, Seed: uint64(inc.Seed),
	}, func(t tune.Trial) {
		p.Log.Info("tuning trial", "trial", t.Number, "of", planned, "factors", t.Params.Factors, "alpha", t.Params.Alpha,
			"lambda", t.Params.Lambda, "validation", t.Validation.String(), "seconds", t.Seconds)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.Log.Warn("hyperparameter search failed; training with the incumbent parameters", "incumbent", from, "err", err)
		return nil
	}
	best := res.Trials[res.BestTrial]
	plan.Validation = best.Validation.Map("")
	maps.Copy(plan.Validation, res.Popularity.Map("popularity_"))
	plan.Validation["trials"] = float64(len(res.Trials))
	plan.Validation["trials_planned"] = float64(planned)
	plan.Validation["stopped_by_budget"] = flag(res.Stopped == "budget")
	plan.Validation["tuned_factors"] = float64(res.Best.Factors)
	plan.Validation["tuned_alpha"], plan.Validation["tuned_lambda"] = res.Best.Alpha, res.Best.Lambda
	if res.Stopped == "budget" {
		p.Log.Warn("the tuning budget cut the search short: its result depends on this machine's speed and is not reproducible",
			"trials", len(res.Trials), "planned", planned, "budget", cfg.TuneBudget)
	}
	duel, err := tune.Duel(ctx, h, inc, res.Best, tune.DuelConfig{K: cfg.K, MinGain: cfg.MinGain})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.Log.Warn("comparing the tuned with the incumbent parameters failed; training with the incumbent's", "incumbent", from, "err", err)
		return nil
	}
	plan.Params = duel.Winner
	plan.Validation["tuned_adopted"] = flag(duel.Adopted)
	key := fmt.Sprintf("ndcg@%d", cfg.K)
	plan.Selection = map[string]float64{
		key + "_noise": duel.Noise, key + "_margin": duel.Margin,
		"incumbent_" + key: duel.Incumbent.NDCG, "incumbent_rerun_" + key: duel.Rerun.NDCG, "tuned_" + key: duel.Candidate.NDCG,
	}
	chosen := "the incumbent's"
	if duel.Adopted {
		chosen = "the tuned ones"
	}
	p.Log.Info("hyperparameters chosen: "+chosen, "incumbent", from, "factors", plan.Params.Factors, "alpha", plan.Params.Alpha,
		"lambda", plan.Params.Lambda, "tuned_"+key, duel.Candidate.NDCG, "incumbent_"+key, duel.Incumbent.NDCG,
		"noise", duel.Noise, "margin", duel.Margin, "trials", len(res.Trials), "stopped", res.Stopped)
	return nil
}

// incumbent returns the parameters tuned ones must beat, and where they
// come from: the serving model's factors, α and λ with base's other
// fields, or base itself when no model serves.
func (p *Pipeline) incumbent(ctx context.Context, base als.Params) (als.Params, string) {
	cur, err := p.Sinks.Models.Current(ctx)
	if err != nil {
		if !errors.Is(err, ports.ErrNotFound) {
			p.Log.Warn("reading the serving model failed; the configured parameters are the incumbent", "err", err)
		}
		return base, "configured"
	}
	q := base
	q.Factors, q.Alpha, q.Lambda = cur.Factors, cur.Alpha, cur.Lambda
	if err := q.Validate(); err != nil {
		p.Log.Warn("the serving model's parameters are invalid; the configured parameters are the incumbent", "version", cur.Version, "err", err)
		return base, "configured"
	}
	return q, "serving model " + cur.Version
}

// gate decides whether the saved model may replace the serving one. It
// compares only what was measured on this run's holdout: a model is held
// back when there is no holdout to judge it on (unless nothing serves),
// or when its holdout NDCG@K does not beat the popularity baseline's on
// the same holdout — serving it would be worse than the popular tier.
//
// It does not compare with the serving model's recorded metrics: those
// were measured on another run's holdout, of other data, and a retrain
// with the same parameters differs from them by more than any fixed
// tolerance (0.0839 against 0.0859 refused one). Whether the parameters
// are worse than the serving model's was decided in choose, on this
// run's split: tuned parameters that do not beat the incumbent's by more
// than the retrain noise are not used.
func (p *Pipeline) gate(ctx context.Context, cfg Config, m *domain.Model) (string, bool) {
	key := fmt.Sprintf("ndcg@%d", cfg.K)
	now, has := m.Metrics[key]
	if !has {
		if _, err := p.Sinks.Models.Current(ctx); errors.Is(err, ports.ErrNotFound) {
			return "nothing held out to evaluate on, and no model serves", true
		}
		return "nothing held out to evaluate on", false
	}
	pop := m.Metrics["popularity_"+key]
	if !(now > pop) { // NaN fails too
		return fmt.Sprintf("holdout %s %.4f does not beat the popularity baseline's %.4f", key, now, pop), false
	}
	return fmt.Sprintf("holdout %s %.4f beats the popularity baseline's %.4f", key, now, pop), true
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
