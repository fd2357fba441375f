package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// Catalog is the movie catalog.
type Catalog interface {
	// Put creates or replaces movies. It keeps whether each was hidden (a
	// new movie is not), and a movie deleted before is in the catalog,
	// and servable, again.
	Put(ctx context.Context, movies ...domain.Movie) error
	// Get returns one movie (hidden ones too, with Hidden set) or
	// ErrNotFound.
	Get(ctx context.Context, id domain.MovieID) (domain.Movie, error)
	// GetMany returns the movies that exist among ids, keyed by id.
	GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error)
	// List returns up to limit movies with ids greater than after, by id.
	List(ctx context.Context, after domain.MovieID, limit int) ([]domain.Movie, error)
	// Count returns the number of movies.
	Count(ctx context.Context) (int, error)

	// SetHidden hides the movie (it stays in the catalog and is never
	// served) or, with hidden false, serves it again, and returns it;
	// ErrNotFound when the catalog does not have it.
	SetHidden(ctx context.Context, id domain.MovieID, hidden bool) (domain.Movie, error)
	// Delete removes the movie from the catalog and keeps it unservable
	// (Unservable lists it) until a Put creates it again: its events,
	// vectors and precomputed lists outlive it. Deleting a movie the
	// catalog does not have is not an error, and makes it unservable too
	// (events may name movies the catalog never had).
	Delete(ctx context.Context, id domain.MovieID) error
	// Unservable returns every movie that is hidden or deleted.
	Unservable(ctx context.Context) (domain.MovieSet, error)
	// Latest returns up to n movies f keeps, never a hidden one, newest
	// first: by release year (an unknown year last), then by when the
	// catalog first had the movie (later first), then by id.
	Latest(ctx context.Context, n int, f domain.Filter) ([]domain.Movie, error)
	// Similar returns up to k movies f keeps, never the movie itself or a
	// hidden one, most similar to movie by metadata first, in the order of
	// domain.CompareBySimilarity (genre Jaccard, then year gap, then the
	// popularity of the popular store kept beside the catalog), scored by
	// the Jaccard index; ErrNotFound when the catalog does not have movie.
	Similar(ctx context.Context, movie domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error)
}

// CatalogWatcher is a Catalog that tells of changes to what is
// unservable (a movie hidden, shown, deleted or created again) as they
// happen, whichever process made them (PostgreSQL: LISTEN/NOTIFY).
type CatalogWatcher interface {
	// WatchUnservable calls fn after each such change until ctx ends. It
	// returns when ctx ends, or with an error when the watch breaks (the
	// caller then watches again, and polls Unservable meanwhile). fn must
	// not block.
	WatchUnservable(ctx context.Context, fn func()) error
}
