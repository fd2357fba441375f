package memory

import (
	"context"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.PopularStore = (*PopularStore)(nil)

// PopularStore keeps movies sorted by their time-invariant popularity key
// (domain.Popularity). Keys only ever grow, so an event moves its movie a
// few places toward the front: Record is O(distance moved) and Top is a
// walk from the front, with no sort on the request path.
type PopularStore struct {
	pop   domain.Popularity
	mu    sync.RWMutex
	order []popEntry             // descending key
	pos   map[domain.MovieID]int // index into order
}

type popEntry struct {
	movie domain.MovieID
	key   float64
}

// NewPopularStore returns an empty store using pop's half-life.
func NewPopularStore(pop domain.Popularity) *PopularStore {
	return &PopularStore{pop: pop, pos: map[domain.MovieID]int{}}
}

// Record implements ports.PopularStore.
func (s *PopularStore) Record(ctx context.Context, movie domain.MovieID, w float64, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	term, ok := s.pop.Contribution(w, t)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, known := s.pos[movie]
	if !known {
		i = len(s.order)
		s.order = append(s.order, popEntry{movie: movie, key: domain.EmptyPopularityKey})
		s.pos[movie] = i
	}
	s.order[i].key = domain.AddLogKeys(s.order[i].key, term)
	for i > 0 && less(s.order[i-1], s.order[i]) {
		s.order[i-1], s.order[i] = s.order[i], s.order[i-1]
		s.pos[s.order[i].movie] = i
		s.pos[s.order[i-1].movie] = i - 1
		i--
	}
	return nil
}

// less orders by key, then id, so equal keys have a stable order.
func less(a, b popEntry) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.movie > b.movie
}

// Top implements ports.PopularStore.
func (s *PopularStore) Top(ctx context.Context, n int, exclude domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]domain.ScoredMovie, 0, n)
	for _, e := range s.order {
		if len(out) == n {
			break
		}
		if exclude.Has(e.movie) {
			continue
		}
		out = append(out, domain.ScoredMovie{MovieID: e.movie, Score: s.pop.ScoreAt(e.key, now)})
	}
	return out, nil
}

// key returns a movie's popularity key (EmptyPopularityKey for none).
func (s *PopularStore) key(movie domain.MovieID) float64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i, ok := s.pos[movie]; ok {
		return s.order[i].key
	}
	return domain.EmptyPopularityKey
}
