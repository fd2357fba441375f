package memory

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ModelStore = (*ModelStore)(nil)

// ModelStore is an in-memory model registry.
type ModelStore struct {
	mu      sync.RWMutex
	models  []*domain.Model // publish order
	current *domain.Model
}

// NewModelStore returns an empty registry.
func NewModelStore() *ModelStore { return &ModelStore{} }

// Publish implements ports.ModelStore.
func (s *ModelStore) Publish(ctx context.Context, m *domain.Model) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	c := cloneModel(m, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = append(s.models, c)
	s.current = c
	return nil
}

// Current implements ports.ModelStore.
func (s *ModelStore) Current(ctx context.Context) (*domain.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.current == nil {
		return nil, ports.ErrNotFound
	}
	return cloneModel(s.current, true), nil
}

// List implements ports.ModelStore.
func (s *ModelStore) List(ctx context.Context) ([]domain.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]domain.Model, 0, len(s.models))
	for i := len(s.models) - 1; i >= 0; i-- {
		out = append(out, *cloneModel(s.models[i], false))
	}
	return out, nil
}

func cloneModel(m *domain.Model, withFactors bool) *domain.Model {
	c := *m
	c.Movies = slices.Clone(m.Movies)
	c.Metrics = maps.Clone(m.Metrics)
	c.ItemFactors = nil
	if withFactors {
		c.ItemFactors = slices.Clone(m.ItemFactors)
	}
	return &c
}
