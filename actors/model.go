package actors

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// ServingModel is the model user actors fold users into: the published
// item factors and the solver built from them (YᵀY computed once).
type ServingModel struct {
	Model  *domain.Model
	Folder *als.ModelFolder
}

// Models holds the serving model of this node. Reads are lock-free (every
// fold-in reads it); a refresh swaps the whole value, so a fold-in never
// mixes two models.
type Models struct {
	store ports.ModelStore
	cur   atomic.Pointer[ServingModel]
}

// NewModels returns a holder that loads from store.
func NewModels(store ports.ModelStore) *Models { return &Models{store: store} }

// Current returns the serving model, or nil before the first one exists.
func (m *Models) Current() *ServingModel { return m.cur.Load() }

// Refresh loads the store's current model if it is not the one held. It
// returns whether the serving model changed.
func (m *Models) Refresh(ctx context.Context) (bool, error) {
	latest, err := m.store.Current(ctx)
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load serving model: %w", err)
	}
	if cur := m.cur.Load(); cur != nil && cur.Model.Version == latest.Version {
		return false, nil
	}
	return true, m.Use(latest)
}

// Use makes model the serving model on this node.
func (m *Models) Use(model *domain.Model) error {
	f, err := als.FolderFromModel(model)
	if err != nil {
		return fmt.Errorf("model %s: %w", model.Version, err)
	}
	m.cur.Store(&ServingModel{Model: model, Folder: f})
	return nil
}
