package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// VectorIndex finds the movies whose factors have the largest inner
// product with a user's preference vector, within one model version, and
// the movies whose factors point the same way as a movie's.
type VectorIndex interface {
	// PutItemVectors stores (or replaces) the item vectors of a model version.
	PutItemVectors(ctx context.Context, m *domain.Model) error
	// Nearest returns up to k movies of model version by descending inner
	// product with vec, never one in exclude. Exclusions must not starve
	// the result: if k unexcluded movies exist, k are returned.
	Nearest(ctx context.Context, version string, vec []float32, k int, exclude domain.MovieSet) ([]domain.ScoredMovie, error)
	// Search is Nearest narrowed by f: never a movie in f.Exclude and,
	// when f has genres, only movies the catalog lists under one of them
	// (a movie the catalog does not have then never passes). The filter
	// does not starve the result either: if k movies of the version pass
	// it, k are returned.
	Search(ctx context.Context, version string, vec []float32, k int, f domain.Filter) ([]domain.ScoredMovie, error)
	// Similar returns up to k movies of model version by descending cosine
	// similarity of their item vectors with movie's (Score is the cosine),
	// never movie itself and never one f leaves out; as with Search, k
	// are returned if k pass. A version without a vector for movie (a
	// cold movie, new since the model was trained) or an unknown version
	// gives an error wrapping ErrNotFound.
	Similar(ctx context.Context, version string, movie domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error)
	// DropVersion deletes the vectors of an old model version.
	DropVersion(ctx context.Context, version string) error
}
