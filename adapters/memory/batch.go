package memory

import (
	"context"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.BatchStore = (*BatchStore)(nil)

// BatchStore is an in-memory BatchStore.
type BatchStore struct {
	mu    sync.RWMutex
	lists map[domain.UserID]domain.RecList
}

// NewBatchStore returns an empty store.
func NewBatchStore() *BatchStore {
	return &BatchStore{lists: map[domain.UserID]domain.RecList{}}
}

// Get implements ports.BatchStore.
func (s *BatchStore) Get(ctx context.Context, user domain.UserID) (domain.RecList, error) {
	if err := ctx.Err(); err != nil {
		return domain.RecList{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.lists[user]
	if !ok {
		return domain.RecList{}, ports.ErrNotFound
	}
	return copyList(l), nil
}

// PutAll implements ports.BatchStore. The swap happens under one lock, so
// readers see either the old or the new list of a user, never a mix.
func (s *BatchStore) PutAll(ctx context.Context, version string, lists []ports.BatchList) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fresh := make(map[domain.UserID]domain.RecList, len(lists))
	for _, bl := range lists {
		l := copyList(bl.List)
		l.ModelVersion = version
		l.Tier = domain.TierBatch
		fresh[bl.UserID] = l
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, l := range fresh {
		s.lists[u] = l
	}
	return nil
}
