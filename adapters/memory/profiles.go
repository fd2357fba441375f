package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ProfileStore = (*ProfileStore)(nil)

// ProfileStore is an in-memory ProfileStore.
type ProfileStore struct {
	mu       sync.RWMutex
	profiles map[domain.UserID]domain.Profile
	serving  ServingVersioner
}

// ServingVersioner tells the serving model's version (a ModelStore).
type ServingVersioner interface {
	ServingVersion(ctx context.Context) (string, error)
}

// NewProfileStore returns an empty store. With a registry, Put refuses a
// vector of another model than the serving one (ports.ErrStaleModel), as
// the port says; without one (nil), every put is stored.
func NewProfileStore(registry ServingVersioner) *ProfileStore {
	return &ProfileStore{profiles: map[domain.UserID]domain.Profile{}, serving: registry}
}

// Get implements ports.ProfileStore.
func (s *ProfileStore) Get(ctx context.Context, user domain.UserID) (domain.Profile, error) {
	if err := ctx.Err(); err != nil {
		return domain.Profile{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.profiles[user]
	if !ok {
		return domain.Profile{}, ports.ErrNotFound
	}
	p.Vector = append([]float32(nil), p.Vector...)
	return p, nil
}

// Put implements ports.ProfileStore.
func (s *ProfileStore) Put(ctx context.Context, p domain.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.serving != nil && p.ModelVersion != "" {
		v, err := s.serving.ServingVersion(ctx)
		switch {
		case errors.Is(err, ports.ErrNotFound):
		case err != nil:
			return err
		case v != p.ModelVersion:
			return fmt.Errorf("profile of %s folded against %s, %s serves: %w", p.UserID, p.ModelVersion, v, ports.ErrStaleModel)
		}
	}
	p.Vector = append([]float32(nil), p.Vector...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[p.UserID] = p
	return nil
}

// PutTrained implements ports.ProfileStore.
func (s *ProfileStore) PutTrained(ctx context.Context, ps []domain.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		if old, ok := s.profiles[p.UserID]; ok && old.InteractionCount > p.InteractionCount {
			continue
		}
		p.Vector = append([]float32(nil), p.Vector...)
		s.profiles[p.UserID] = p
	}
	return nil
}
