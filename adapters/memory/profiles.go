package memory

import (
	"context"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ProfileStore = (*ProfileStore)(nil)

// ProfileStore is an in-memory ProfileStore.
type ProfileStore struct {
	mu       sync.RWMutex
	profiles map[domain.UserID]domain.Profile
}

// NewProfileStore returns an empty store.
func NewProfileStore() *ProfileStore {
	return &ProfileStore{profiles: map[domain.UserID]domain.Profile{}}
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
