package training

import (
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// Plan is what a training job fits, decided before the iterations start.
type Plan struct {
	Data *Dataset
	// Fit is the matrix the factors are fitted on: all data minus the
	// evaluation holdout. Full is all data, with the same row and column
	// indices; the final user half-step solves against it.
	Fit  *als.Matrix
	Full *als.Matrix
	// Holdout[u] are the column indices held out of Fit for user u.
	Holdout [][]int32
	Params  als.Params
	// Validation are the scores of the hyperparameter search that chose
	// Params, when it ran.
	Validation map[string]float64
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

// FinalParams are the parameters of the last user half-step: the exact
// solver, so that every published user vector is the exact fold-in of the
// user's whole history.
func (p *Plan) FinalParams() als.Params {
	q := p.Params
	q.Solver = als.SolverCholesky
	return q
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
