package domain

import (
	"fmt"
	"time"
)

// ModelStatus is where a model stands in the registry.
type ModelStatus string

// A trained model is saved as a candidate; promotion makes it the serving
// model and retires the one it replaces.
const (
	ModelCandidate ModelStatus = "candidate"
	ModelServing   ModelStatus = "serving"
	ModelRetired   ModelStatus = "retired"
)

// Model is a trained collaborative-filtering model as it is published: the
// item factors (one row of Factors floats per movie) and how they were made.
// User factors are not part of it: serving folds users in on demand.
type Model struct {
	Version     string    `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	Factors     int       `json:"factors"`
	Alpha       float64   `json:"alpha"`
	Lambda      float64   `json:"lambda"`
	Movies      []MovieID `json:"movies,omitempty"`
	ItemFactors []float32 `json:"-"`

	// How it was trained.
	Iterations   int     `json:"iterations,omitempty"`
	Solver       string  `json:"solver,omitempty"`
	Users        int     `json:"users,omitempty"`
	Interactions int     `json:"interactions,omitempty"`
	TrainSeconds float64 `json:"train_seconds,omitempty"`
	// Metrics are holdout metrics ("ndcg@10", and "popularity_ndcg@10" for
	// the baseline on the same holdout); Validation holds the scores of the
	// hyperparameter search that chose Factors, Alpha and Lambda.
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Validation map[string]float64 `json:"validation,omitempty"`
	// Status is set by the registry.
	Status ModelStatus `json:"status,omitempty"`
}

// Validate checks that the factor matrix matches the movie list.
func (m *Model) Validate() error {
	switch {
	case m.Version == "":
		return fmt.Errorf("model: empty version: %w", ErrInvalid)
	case m.Factors <= 0:
		return fmt.Errorf("model %s: factors=%d: %w", m.Version, m.Factors, ErrInvalid)
	case len(m.ItemFactors) != len(m.Movies)*m.Factors:
		return fmt.Errorf("model %s: %d factor values for %d movies × %d factors: %w",
			m.Version, len(m.ItemFactors), len(m.Movies), m.Factors, ErrInvalid)
	}
	return nil
}

// Row returns the factor row of the i-th movie, sharing storage.
func (m *Model) Row(i int) []float32 {
	return m.ItemFactors[i*m.Factors : (i+1)*m.Factors]
}
