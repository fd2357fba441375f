package training

import (
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
}

// FinalParams are the parameters of the last user half-step: the exact
// solver, so that every published user vector is the exact fold-in of the
// user's whole history.
func (p *Plan) FinalParams() als.Params {
	return p.Params
}

// Outcome is what a finished job produced.
type Outcome struct {
	Model      *domain.Model
	Promoted   bool
	GateReason string
}
