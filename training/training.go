// Package training is the offline path: it loads every interaction through
// the ports (archive and hot table), carves an evaluation holdout, searches
// hyperparameters on a validation split of the rest, and — after the
// trainer actors have fitted the factors — evaluates the model beside a
// popularity baseline, applies the promotion gate, and publishes item
// vectors, batch lists and user vectors.
package training

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// Dataset is all history as a user × movie matrix with dense indices.
type Dataset struct {
	Users  []domain.UserID
	Movies []domain.MovieID
	Matrix *als.Matrix // rows: users, columns: movies; entries: summed weights
	// Times[e] is the unix time (seconds) of the latest event on entry e
	// of Matrix (aligned with Matrix.Indices), for the time-based holdout.
	Times []int64
	// UserEvents[u] is how many events user u has; UserLast[u] the time of
	// the latest one. Published profiles carry them.
	UserEvents []int
	UserLast   []time.Time
	Events     int
}

// Scanner streams interactions (ports.InteractionLog.Scan, ports.Archive.Scan).
type Scanner func(ctx context.Context, fn func(domain.Interaction) error) error

// ErrNoData means there is nothing to train on.
var ErrNoData = errors.New("training: no interactions")

// loadedEvent is what Load keeps per event until the matrix is built: 16
// bytes, so 10M events cost 160 MB on top of the matrix.
type loadedEvent struct {
	row, col int32
	t        int64
}

// Load reads every source into a Dataset. An event present in two sources
// (archived, and not yet deleted from the hot table) counts once: event
// ids are remembered as 64-bit hashes (8 bytes each plus map overhead)
// only when there is more than one source.
func Load(ctx context.Context, sources ...Scanner) (*Dataset, error) {
	ds := &Dataset{}
	users, movies := map[domain.UserID]int32{}, map[domain.MovieID]int32{}
	var seen map[uint64]struct{}
	if len(sources) > 1 {
		seen = map[uint64]struct{}{}
	}
	var b als.Builder
	var evs []loadedEvent
	for _, scan := range sources {
		err := scan(ctx, func(ev domain.Interaction) error {
			if seen != nil {
				h := hashID(ev.EventID)
				if _, dup := seen[h]; dup {
					return nil
				}
				seen[h] = struct{}{}
			}
			u, ok := users[ev.UserID]
			if !ok {
				u = int32(len(ds.Users))
				users[ev.UserID] = u
				ds.Users = append(ds.Users, ev.UserID)
				ds.UserEvents = append(ds.UserEvents, 0)
				ds.UserLast = append(ds.UserLast, time.Time{})
			}
			m, ok := movies[ev.MovieID]
			if !ok {
				m = int32(len(ds.Movies))
				movies[ev.MovieID] = m
				ds.Movies = append(ds.Movies, ev.MovieID)
			}
			b.Add(int(u), int(m), ev.Weight)
			evs = append(evs, loadedEvent{row: u, col: m, t: ev.Time.Unix()})
			ds.UserEvents[u]++
			if ev.Time.After(ds.UserLast[u]) {
				ds.UserLast[u] = ev.Time
			}
			ds.Events++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load interactions: %w", err)
		}
	}
	var err error
	if ds.Matrix, err = b.Build(len(ds.Users), len(ds.Movies)); err != nil {
		return nil, err
	}
	ds.Times = make([]int64, ds.Matrix.NNZ())
	for _, e := range evs {
		cols, _ := ds.Matrix.Row(int(e.row))
		i, _ := slices.BinarySearch(cols, e.col)
		idx := ds.Matrix.Indptr[e.row] + i
		ds.Times[idx] = max(ds.Times[idx], e.t)
	}
	return ds, nil
}

// hashID is FNV-1a, 64 bits: collisions among 10⁸ ids have odds of about
// 3·10⁻⁴, and a collision only drops one event from one training run.
func hashID(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Version names a model by its training time (to the millisecond), so
// versions sort by age.
func Version(now time.Time) string {
	return "als-" + strings.Replace(now.UTC().Format("20060102-150405.000"), ".", "-", 1)
}
