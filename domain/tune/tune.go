// Package tune chooses the hyperparameters of implicit ALS (factors, α, λ)
// in two steps: a random search scored on a validation split proposes a
// candidate (Search), and a duel on the evaluation split decides whether
// it replaces the incumbent parameters (Duel).
//
// The validation split is carved out of the matrix Search is given — the
// training part of the evaluation holdout — with domain/eval's protocol
// (Config.Split), so the trials never look at the evaluation holdout.
// Every trial trains on the validation split's training matrix and is
// scored by NDCG@K of its held-out entries (Config.K, default 10); the
// best trial wins, ties going to the earlier one. The first trial is
// Config.Base, the incumbent.
//
// The best of twenty noisy scores is biased upwards (the winner's curse),
// and the validation split is a smaller, earlier slice of the data than
// the one served, so the search's winner is only a candidate: Duel then
// fits it and the incumbent on the evaluation split's training matrix and
// scores both on the evaluation holdout, and the candidate is adopted
// only if it beats the incumbent by more than the retrain noise — the
// NDCG difference of the incumbent fitted with two seeds on that split.
// On MovieLens-100K the search's winner with seed 2 (K=32, α=0.77, λ=7.45)
// beat the defaults on validation but lost to them by 0.008 NDCG@10 on the
// evaluation holdout, and by 0.006 on ratings the node never saw; the duel
// refused it (BENCHMARKS.md, "Training quality on MovieLens-100K").
//
// The search is random rather than a grid (Bergstra and Bengio 2012): with
// three parameters of unequal importance, random points try more distinct
// values of each, and every prefix of the sequence is itself a fair sample.
// The sequence of candidates is a function of Config.Seed alone and every
// trial is deterministic (als.Train is), so the same seed and data give
// the same table and the same winner: a search is a fixed number of
// trials (Config.Trials). Config.Budget is only a safety cap against a
// search far slower than planned; when it cuts the search short, the
// result depends on the machine's speed, and Result.Stopped says so.
package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
)

// DefaultTrials is the size of a search when Config.Trials is 0.
const DefaultTrials = 20

// Config bounds and shapes a search.
type Config struct {
	// Trials is the number of trials to run, the first being Base
	// itself; 0 means DefaultTrials.
	Trials int `json:"trials"`
	// Budget caps the wall-clock time of the search; 0 means no cap. It
	// is a safety net, not the way to size a search (Trials is): a trial
	// still running when it expires is cancelled and dropped, so Search
	// returns within about one half-step of the budget, with Stopped
	// "budget" — and a result that another machine would not reproduce.
	Budget time.Duration `json:"budget"`
	// Seed selects the sequence of candidates.
	Seed uint64 `json:"seed"`
	// K is the cutoff of the NDCG that scores a trial; 0 means 10.
	K int `json:"k"`
	// Base gives every trial's parameters other than Factors, Alpha and
	// Lambda (iterations, solver, seed, workers); the first trial is Base
	// unchanged, so the search never returns anything worse on validation
	// than the parameters it started from.
	Base als.Params `json:"base"`
	// Space is where candidates are drawn; the zero Space means
	// DefaultSpace of the matrix.
	Space Space `json:"space"`
	// Split carves the validation split out of the matrix Search gets.
	Split eval.SplitConfig `json:"split"`
	// Times are the entry times of the matrix (see eval.Split), or nil.
	Times []int64 `json:"-"`
}

// Space is the search space: factors from a list, α and λ log-uniform
// between bounds (both bounds inclusive, low ≤ high; equal bounds fix the
// value).
type Space struct {
	Factors []int      `json:"factors"`
	Alpha   [2]float64 `json:"alpha"`
	Lambda  [2]float64 `json:"lambda"`
}

// DefaultSpace is the search space for a matrix.
//
//   - Factors 16, 32, 64 and 128: 64 is the serving default; 128 is the
//     most the nightly budget and a ~1 ms fold-in allow (a fold-in costs
//     O(K³)), and small data rarely supports more than 32.
//   - α log-uniform in [0.1, 50]: Marquee's weights are already graded
//     (a five-star rating weighs 5), so confidence c = 1 + α·r reaches
//     Hu et al.'s α = 40 for raw counts at the top and nearly ignores the
//     grading at the bottom. Small data wants the low end: with few
//     observations per user, strong confidence in each overfits it.
//   - λ log-uniform over three decades around s, [s/30, 30·s], with s
//     the mean number of entries per user and item, nnz/(users+items). λ
//     is a penalty per vector while the data term of a vector grows with
//     its interactions, so the same λ regularises dense data less: the
//     range moves with s to keep the ratio, and within it small, noisy
//     data finds its strong regularisation towards the top. On
//     MovieLens-100K s ≈ 38, so λ ∈ [1.3, 1,100]; a grid there put the
//     best λ between 10 and 30 for α between 0.1 and 3, inside the range
//     and not at its edge (validation NDCG@10 falls by a quarter to two
//     fifths at λ = 100 ≈ 2.6·s).
func DefaultSpace(m *als.Matrix) Space {
	s := 1.0
	if m != nil && m.Rows+m.Cols > 0 {
		s = max(1, float64(m.NNZ())/float64(m.Rows+m.Cols))
	}
	return Space{
		Factors: []int{16, 32, 64, 128},
		Alpha:   [2]float64{0.1, 50},
		Lambda:  [2]float64{s / 30, 30 * s},
	}
}

// Validate reports every invalid field at once, as domain.FieldErrors.
func (s Space) Validate() error {
	var errs domain.FieldErrors
	bad := func(field, msg string, v any) {
		errs = append(errs, &domain.FieldError{Field: field, Message: msg, Value: v})
	}
	if len(s.Factors) == 0 {
		bad("space.factors", "must list at least one value", s.Factors)
	}
	for _, k := range s.Factors {
		if k < 1 || k > als.MaxFactors {
			bad("space.factors", "every value must be between 1 and 1024", k)
		}
	}
	for _, b := range []struct {
		name string
		r    [2]float64
	}{{"space.alpha", s.Alpha}, {"space.lambda", s.Lambda}} {
		if !(b.r[0] > 0) || math.IsInf(b.r[1], 0) || !(b.r[0] <= b.r[1]) {
			bad(b.name, "must be two finite bounds 0 < low ≤ high", b.r)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Trial is one row of the search's table.
type Trial struct {
	// Number is the trial's place in the sequence, from 1.
	Number int `json:"trial"`
	// Params trained the trial's model (on the validation split's
	// training matrix).
	Params als.Params `json:"params"`
	// Validation are its metrics on the validation holdout.
	Validation eval.Metrics `json:"validation"`
	// Seconds is the wall time of training and scoring.
	Seconds float64 `json:"seconds"`
}

// Result is the outcome of Search.
type Result struct {
	// Best are the parameters of the best trial: Base with its Factors,
	// Alpha and Lambda.
	Best als.Params `json:"best"`
	// BestTrial indexes Trials.
	BestTrial int `json:"best_trial"`
	// Trials are the finished trials in order.
	Trials []Trial `json:"trials"`
	// Popularity is the popularity baseline on the same validation
	// holdout, for scale.
	Popularity eval.Metrics `json:"popularity"`
	// Space is the space searched (DefaultSpace when Config left it zero).
	Space Space `json:"space"`
	// Stopped says why the search ended: "trials" (all run, the result is
	// reproducible) or "budget" (cut by the safety cap: it is not).
	Stopped string `json:"stopped"`
	// ValidationUsers is the number of users in the validation holdout.
	ValidationUsers int `json:"validation_users"`
}

// ErrNoValidation means the matrix has no user eligible for a validation
// holdout, so there is nothing to score trials on.
var ErrNoValidation = errors.New("tune: no user eligible for validation")

// Search runs the random search on train (see the package doc) and returns
// the best parameters and the table of trials. progress, if not nil, is
// called after every finished trial, from Search's goroutine. Cancelling
// ctx stops the search and returns ctx's error; an expired Budget is not an
// error: Search returns the trials finished by then (at least the first,
// which is always run to completion).
func Search(ctx context.Context, train *als.Matrix, cfg Config, progress func(Trial)) (Result, error) {
	if cfg.Trials == 0 {
		cfg.Trials = DefaultTrials
	}
	if cfg.K == 0 {
		cfg.K = 10
	}
	if cfg.Space.Factors == nil && cfg.Space.Alpha == [2]float64{} && cfg.Space.Lambda == [2]float64{} {
		cfg.Space = DefaultSpace(train)
	}
	switch {
	case cfg.Trials < 0 || cfg.K < 0 || cfg.Budget < 0:
		return Result{}, fmt.Errorf("tune: %d trials, k=%d, budget %v: %w", cfg.Trials, cfg.K, cfg.Budget, domain.ErrInvalid)
	}
	if err := errors.Join(cfg.Space.Validate(), cfg.Base.Validate()); err != nil {
		return Result{}, err
	}
	start := time.Now()
	v, err := eval.Split(train, cfg.Times, cfg.Split)
	if err != nil {
		return Result{}, fmt.Errorf("tune: validation split: %w", err)
	}
	if v.Users == 0 {
		return Result{}, ErrNoValidation
	}
	res := Result{Space: cfg.Space, Stopped: "trials", ValidationUsers: v.Users}
	res.Popularity, err = eval.Evaluate(ctx, v.Train, v.Items, eval.Popularity(v.Train), cfg.K)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x74756e65)) // "tune"
	for n := 1; n <= cfg.Trials; n++ {
		p := cfg.Base
		if n > 1 { // the first trial is Base itself
			p.Factors = cfg.Space.Factors[rng.IntN(len(cfg.Space.Factors))]
			p.Alpha = logUniform(rng, cfg.Space.Alpha)
			p.Lambda = logUniform(rng, cfg.Space.Lambda)
		}
		trialCtx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.Budget > 0 && n > 1 {
			trialCtx, cancel = context.WithDeadline(ctx, start.Add(cfg.Budget))
		}
		t, err := trial(trialCtx, v, p, cfg.K)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				res.Stopped = "budget"
				break
			}
			return Result{}, fmt.Errorf("tune: trial %d (%+v): %w", n, p, err)
		}
		t.Number = n
		res.Trials = append(res.Trials, t)
		if progress != nil {
			progress(t)
		}
		if cfg.Budget > 0 && time.Since(start) >= cfg.Budget && n < cfg.Trials {
			res.Stopped = "budget"
			break
		}
	}
	res.BestTrial = 0
	for i, t := range res.Trials {
		if t.Validation.NDCG > res.Trials[res.BestTrial].Validation.NDCG {
			res.BestTrial = i
		}
	}
	res.Best = res.Trials[res.BestTrial].Params
	return res, nil
}

// trial trains with p on the validation split and scores it.
func trial(ctx context.Context, v *eval.Holdout, p als.Params, k int) (Trial, error) {
	start := time.Now()
	users, items, err := als.Train(ctx, v.Train, p, nil)
	if err != nil {
		return Trial{}, err
	}
	met, err := eval.Evaluate(ctx, v.Train, v.Items, eval.Factors{Users: users, Items: items, Workers: p.Workers}, k)
	if err != nil {
		return Trial{}, err
	}
	return Trial{Params: p, Validation: met, Seconds: time.Since(start).Seconds()}, nil
}

// logUniform draws from [lo, hi] uniformly on a log scale.
func logUniform(rng *rand.Rand, r [2]float64) float64 {
	lo, hi := math.Log(r[0]), math.Log(r[1])
	return math.Exp(lo + rng.Float64()*(hi-lo))
}

// Sorted returns the trials best first (by validation NDCG, ties by trial
// number), for printing the table.
func (r Result) Sorted() []Trial {
	out := slices.Clone(r.Trials)
	slices.SortStableFunc(out, func(a, b Trial) int {
		switch {
		case a.Validation.NDCG > b.Validation.NDCG:
			return -1
		case a.Validation.NDCG < b.Validation.NDCG:
			return 1
		}
		return 0
	})
	return out
}
