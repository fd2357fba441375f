package domain

import (
	"fmt"
	"time"
)

// Model is a trained collaborative-filtering model as it is published: the
// item factors (one row of Factors floats per movie) and how they were made.
// User factors are not part of it: serving folds users in on demand.
type Model struct {
	Version     string             `json:"version"`
	CreatedAt   time.Time          `json:"created_at"`
	Factors     int                `json:"factors"`
	Alpha       float64            `json:"alpha"`
	Lambda      float64            `json:"lambda"`
	Movies      []MovieID          `json:"movies"`
	ItemFactors []float32          `json:"-"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
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
