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

var _ ports.PromotionWatcher = (*ModelStore)(nil)

// ModelStore is an in-memory model registry. It tells its watchers of
// every promotion synchronously, before Promote returns.
type ModelStore struct {
	mu       sync.RWMutex
	models   []*domain.Model // save order
	byVer    map[string]*domain.Model
	current  string
	previous string // the version current replaced

	watchMu  sync.Mutex
	watchers map[int]func()
	nextID   int
}

// NewModelStore returns an empty registry.
func NewModelStore() *ModelStore {
	return &ModelStore{byVer: map[string]*domain.Model{}, watchers: map[int]func(){}}
}

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

// Promote implements ports.ModelStore; the watchers hear of it before it
// returns.
func (s *ModelStore) Promote(ctx context.Context, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	m, ok := s.byVer[version]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("model %s: %w", version, ports.ErrNotFound)
	}
	if old, ok := s.byVer[s.current]; ok && old != m {
		old.Status = domain.ModelRetired
		s.previous = s.current
	}
	m.Status, s.current = domain.ModelServing, version
	s.mu.Unlock()
	s.notify()
	return nil
}

// notify calls every watcher.
func (s *ModelStore) notify() {
	s.watchMu.Lock()
	fns := make([]func(), 0, len(s.watchers))
	for _, fn := range s.watchers {
		fns = append(fns, fn)
	}
	s.watchMu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// WatchPromotions implements ports.PromotionWatcher.
func (s *ModelStore) WatchPromotions(ctx context.Context, fn func()) error {
	s.watchMu.Lock()
	id := s.nextID
	s.nextID++
	s.watchers[id] = fn
	s.watchMu.Unlock()
	<-ctx.Done()
	s.watchMu.Lock()
	delete(s.watchers, id)
	s.watchMu.Unlock()
	return nil
}

// ServingVersion implements ports.ModelStore.
func (s *ModelStore) ServingVersion(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.current == "" {
		return "", ports.ErrNotFound
	}
	return s.current, nil
}

// Get implements ports.ModelStore.
func (s *ModelStore) Get(ctx context.Context, version string) (*domain.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.byVer[version]
	if !ok {
		return nil, fmt.Errorf("model %s: %w", version, ports.ErrNotFound)
	}
	return cloneModel(m, true), nil
}

// Prune implements ports.ModelStore.
func (s *ModelStore) Prune(ctx context.Context, keepCandidates int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := map[string]bool{s.current: true, s.previous: true}
	for i := len(s.models) - 1; i >= 0 && keepCandidates > 0; i-- {
		if m := s.models[i]; m.Status == domain.ModelCandidate {
			keep[m.Version] = true
			keepCandidates--
		}
	}
	var dropped []string
	s.models = slices.DeleteFunc(s.models, func(m *domain.Model) bool {
		if keep[m.Version] {
			return false
		}
		dropped = append(dropped, m.Version)
		delete(s.byVer, m.Version)
		return true
	})
	return dropped, nil
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
