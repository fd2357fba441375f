package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// Catalog is the movie catalog.
type Catalog interface {
	// Put creates or replaces movies.
	Put(ctx context.Context, movies ...domain.Movie) error
	// Get returns one movie or ErrNotFound.
	Get(ctx context.Context, id domain.MovieID) (domain.Movie, error)
	// GetMany returns the movies that exist among ids, keyed by id.
	GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error)
	// List returns up to limit movies with ids greater than after, by id.
	List(ctx context.Context, after domain.MovieID, limit int) ([]domain.Movie, error)
	// Count returns the number of movies.
	Count(ctx context.Context) (int, error)
}
