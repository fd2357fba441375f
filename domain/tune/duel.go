package tune

import (
	"context"
	"fmt"
	"math"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
)

// DuelConfig says how Duel decides.
type DuelConfig struct {
	// K is the cutoff of the NDCG compared; 0 means 10.
	K int `json:"k"`
	// MinGain is the least gain, as a fraction of the incumbent's NDCG,
	// that the candidate needs besides beating the noise: switching
	// parameters is not free (another K changes the fold-in's cost), so a
	// gain too small to matter is not worth it either. 0 leaves only the
	// noise.
	MinGain float64 `json:"min_gain"`
}

// DuelResult is the outcome of Duel. Every metric is measured on the same
// holdout, by models fitted on the same matrix.
type DuelResult struct {
	// Incumbent is the incumbent parameters fitted with their seed,
	// Rerun the same parameters fitted with NoiseSeed of it.
	Incumbent eval.Metrics `json:"incumbent"`
	Rerun     eval.Metrics `json:"rerun"`
	// Candidate is the candidate parameters fitted with the incumbent's
	// seed; equal to Incumbent when the parameters are the same.
	Candidate eval.Metrics `json:"candidate"`
	// Noise is the retrain noise, |Incumbent.NDCG − Rerun.NDCG|: how much
	// the NDCG of one configuration moves when only the random start
	// changes. One pair of fits is itself a noisy estimate (it can come
	// out near 0 by luck), which is one reason for MinGain's floor.
	// Margin is what the candidate had to beat the incumbent by:
	// max(Noise, MinGain·Incumbent.NDCG).
	Noise  float64 `json:"noise"`
	Margin float64 `json:"margin"`
	// Adopted reports whether the candidate won; Winner is its parameters
	// if so, the incumbent's if not.
	Adopted bool       `json:"adopted"`
	Winner  als.Params `json:"winner"`
}

// NoiseSeed is the seed of the incumbent's second fit in Duel.
func NoiseSeed(seed int64) int64 { return seed + 1 }

// Duel decides between the incumbent parameters (those of the serving
// model, or the defaults) and a candidate (the search's best) on one
// split: both are fitted on h.Train with the incumbent's seed and scored
// by NDCG@K on h.Items, and the incumbent is fitted a second time with
// NoiseSeed to measure how far its score moves by chance alone. The
// candidate wins only if it beats the incumbent by more than that noise
// (and MinGain); otherwise the incumbent's parameters stay. A candidate
// equal to the incumbent is not fitted again and never wins, so keeping
// the same parameters can never be refused by noise.
//
// The search ranks its trials on a validation split and takes the best of
// many, so its winner's validation score is biased upwards by the choice
// (the winner's curse); the duel's one comparison, on a split the search
// never scored, with a margin for the noise, is what keeps a lucky draw
// from replacing parameters that are as good.
func Duel(ctx context.Context, h *eval.Holdout, incumbent, candidate als.Params, cfg DuelConfig) (DuelResult, error) {
	if cfg.K == 0 {
		cfg.K = 10
	}
	if h == nil || h.Users == 0 {
		return DuelResult{}, ErrNoValidation
	}
	if math.IsNaN(cfg.MinGain) || cfg.MinGain < 0 || cfg.K < 0 {
		return DuelResult{}, fmt.Errorf("tune: duel with k=%d, min gain %g: %w", cfg.K, cfg.MinGain, domain.ErrInvalid)
	}
	var res DuelResult
	inc, err := trial(ctx, h, incumbent, cfg.K)
	if err != nil {
		return DuelResult{}, fmt.Errorf("tune: incumbent %+v: %w", incumbent, err)
	}
	again := incumbent
	again.Seed = NoiseSeed(incumbent.Seed)
	rerun, err := trial(ctx, h, again, cfg.K)
	if err != nil {
		return DuelResult{}, fmt.Errorf("tune: incumbent, second seed: %w", err)
	}
	res.Incumbent, res.Rerun, res.Candidate = inc.Validation, rerun.Validation, inc.Validation
	res.Noise = math.Abs(inc.Validation.NDCG - rerun.Validation.NDCG)
	res.Margin = margin(res.Noise, cfg.MinGain, inc.Validation.NDCG)
	res.Winner = incumbent
	candidate.Seed = incumbent.Seed
	if candidate == incumbent {
		return res, nil
	}
	cand, err := trial(ctx, h, candidate, cfg.K)
	if err != nil {
		return DuelResult{}, fmt.Errorf("tune: candidate %+v: %w", candidate, err)
	}
	res.Candidate = cand.Validation
	if res.Adopted = adopt(inc.Validation.NDCG, cand.Validation.NDCG, res.Margin); res.Adopted {
		res.Winner = candidate
	}
	return res, nil
}

// margin is what a candidate must gain over an incumbent scoring
// incumbent: more than the noise, and more than minGain of the score.
func margin(noise, minGain, incumbent float64) float64 {
	return max(noise, minGain*incumbent)
}

// adopt is the duel's rule: the candidate wins when it beats the
// incumbent by more than the margin.
func adopt(incumbent, candidate, margin float64) bool {
	return candidate-incumbent > margin
}
