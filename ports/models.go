package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// ModelStore is the registry of trained models. A model is saved as a
// candidate and served only once promoted, so a model that failed its
// evaluation gate is kept for inspection without ever being served.
type ModelStore interface {
	// Save stores m, factors included, as a candidate.
	Save(ctx context.Context, m *domain.Model) error
	// Promote makes a saved version the serving model and retires the
	// previous one; ErrNotFound if the version was never saved (or was
	// pruned).
	Promote(ctx context.Context, version string) error
	// Current returns the serving model, factors included, or ErrNotFound.
	Current(ctx context.Context) (*domain.Model, error)
	// ServingVersion returns the serving model's version, or ErrNotFound;
	// it reads no factors, so every node may ask it every few seconds.
	ServingVersion(ctx context.Context) (string, error)
	// Get returns a saved model, factors included, or ErrNotFound.
	Get(ctx context.Context, version string) (*domain.Model, error)
	// List returns the metadata of every stored model, newest first, with
	// Status set and ItemFactors and Movies left empty.
	List(ctx context.Context) ([]domain.Model, error)
	// Prune deletes every model but the serving one, the one it replaced
	// last (what a rollback goes back to) and the newest keepCandidates
	// never served, and returns the versions it deleted.
	Prune(ctx context.Context, keepCandidates int) ([]string, error)
}

// PromotionWatcher is a ModelStore that tells of promotions as they
// happen, whichever process made them (PostgreSQL: LISTEN/NOTIFY).
type PromotionWatcher interface {
	// WatchPromotions calls fn after each promotion until ctx ends. It
	// returns when ctx ends, or with an error when the watch breaks (the
	// caller then watches again, and polls ServingVersion meanwhile).
	// fn must not block.
	WatchPromotions(ctx context.Context, fn func()) error
}
