package memory

import (
	"context"
	"fmt"
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
	models  []*domain.Model // save order
	byVer   map[string]*domain.Model
	current string
}

// NewModelStore returns an empty registry.
func NewModelStore() *ModelStore { return &ModelStore{byVer: map[string]*domain.Model{}} }

// Save implements ports.ModelStore.
func (s *ModelStore) Save(ctx context.Context, m *domain.Model) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	c := cloneModel(m, true)
	c.Status = domain.ModelCandidate
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byVer[c.Version]; dup {
		return fmt.Errorf("model %s already saved: %w", c.Version, domain.ErrInvalid)
	}
	s.models = append(s.models, c)
	s.byVer[c.Version] = c
	return nil
}

// Promote implements ports.ModelStore.
func (s *ModelStore) Promote(ctx context.Context, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byVer[version]
	if !ok {
		return fmt.Errorf("model %s: %w", version, ports.ErrNotFound)
	}
	if old, ok := s.byVer[s.current]; ok && old != m {
		old.Status = domain.ModelRetired
	}
	m.Status, s.current = domain.ModelServing, version
	return nil
}

// Current implements ports.ModelStore.
func (s *ModelStore) Current(ctx context.Context) (*domain.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.byVer[s.current]
	if !ok {
		return nil, ports.ErrNotFound
	}
	return cloneModel(m, true), nil
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
		c := cloneModel(s.models[i], false)
		c.Movies = nil
		out = append(out, *c)
	}
	return out, nil
}

func cloneModel(m *domain.Model, withFactors bool) *domain.Model {
	c := *m
	c.Movies = slices.Clone(m.Movies)
	c.Metrics = maps.Clone(m.Metrics)
	c.Validation = maps.Clone(m.Validation)
	c.ItemFactors = nil
	if withFactors {
		c.ItemFactors = slices.Clone(m.ItemFactors)
	}
	return &c
}
