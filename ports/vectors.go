package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// VectorIndex finds the movies whose factors have the largest inner
// product with a user's preference vector, within one model version.
type VectorIndex interface {
	// PutItemVectors stores (or replaces) the item vectors of a model version.
	PutItemVectors(ctx context.Context, m *domain.Model) error
	// Nearest returns up to k movies of model version by descending inner
	// product with vec, never one in exclude. Exclusions must not starve
	// the result: if k unexcluded movies exist, k are returned.
	Nearest(ctx context.Context, version string, vec []float32, k int, exclude domain.MovieSet) ([]domain.ScoredMovie, error)
	// DropVersion deletes the vectors of an old model version.
	DropVersion(ctx context.Context, version string) error
}
