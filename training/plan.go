package training

import (
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// Plan is what a training job fits, decided before the iterations start.
// A job fits Params twice, from the same seed: once on Fit, the holdout
// fit, which evaluation and the promotion gate judge; then on Full, the
// full fit, which is published.
type Plan struct {
	Data *Dataset
	// Fit is the matrix of the holdout fit: all data minus the evaluation
	// holdout. Full is all data, with the same row and column indices: the
	// matrix of the published fit. When nothing is held out (no user has
	// enough positives) they are the same matrix and one fit serves both.
	Fit  *als.Matrix
	Full *als.Matrix
	// Holdout[u] are the column indices held out of Fit for user u.
	Holdout [][]int32
	Params  als.Params
	// Validation are the scores of the hyperparameter search, when it
	// ran: its best trial's validation metrics and what became of it.
	Validation map[string]float64
	// Selection is what the duel between the tuned and the incumbent
	// parameters measured on the evaluation holdout (the retrain noise
	// among it), copied into the model's Metrics.
	Selection map[string]float64
	// Started is when the job began loading.
	Started time.Time
}

// HoldoutUsers counts the users with held-out entries.
func (p *Plan) HoldoutUsers() int {
	n := 0
	for _, h := range p.Holdout {
		if len(h) > 0 {
			n++
		}
	}
	return n
}

// Refit reports whether the job needs its second fit: whether the
// holdout fit's matrix lacks entries of the full one.
func (p *Plan) Refit() bool { return p.Fit != p.Full }

// Fitted is the outcome of one fit: a user vector per row of the matrix
// fitted and an item vector per column. As in als.Train, the last user
// half-step of a fit is exact, so every user vector is the fold-in
// (als.Folder) of that user's row against Items: the full fit's user
// vectors are what serving would compute for the same history.
type Fitted struct {
	Users, Items *als.Factors
}

// Options are the per-request choices of a training job.
type Options struct {
	// Tune overrides the pipeline's hyperparameter-search setting for this
	// job (nil keeps it): the first training of a fresh node skips the
	// search so that it serves within seconds.
	Tune *bool `json:"tune,omitempty"`
}

// Outcome is what a finished job produced.
type Outcome struct {
	Model      *domain.Model
	Promoted   bool
	GateReason string
}
