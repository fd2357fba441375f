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
	// previous one; ErrNotFound if the version was never saved.
	Promote(ctx context.Context, version string) error
	// Current returns the serving model, factors included, or ErrNotFound.
	Current(ctx context.Context) (*domain.Model, error)
	// List returns the metadata of every stored model, newest first, with
	// Status set and ItemFactors and Movies left empty.
	List(ctx context.Context) ([]domain.Model, error)
}
