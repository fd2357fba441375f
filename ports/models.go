package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// ModelStore is the registry of trained models.
type ModelStore interface {
	// Publish stores m and makes it the serving model.
	Publish(ctx context.Context, m *domain.Model) error
	// Current returns the serving model, factors included, or ErrNotFound.
	Current(ctx context.Context) (*domain.Model, error)
	// List returns the metadata of every stored model, newest first
	// (ItemFactors left empty).
	List(ctx context.Context) ([]domain.Model, error)
}
