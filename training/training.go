// Package training is the offline path: it loads every interaction through
// the ports (archive and hot table), carves an evaluation holdout, searches
// hyperparameters on a validation split of the rest, and — after the
// trainer actors have fitted the chosen parameters twice from the same
// seed, once without the holdout (the holdout fit) and once on everything
// (the full fit) — evaluates the holdout fit beside a popularity baseline,
// applies the promotion gate, and publishes the full fit: item vectors,
// batch lists and user vectors.
//
// The holdout fit exists only to be judged: it is the model of the
// chosen parameters that has not seen the held-out entries, so its
// holdout metrics estimate how the parameters do on interactions a model
// has not seen. What is served is refitted on all data, because the
// held-out entries are each user's latest positives — the most telling
// part of the history — and a served model should not forget them. The
// full fit's holdout metrics would be meaningless (it trained on the
// holdout), so the published model carries the holdout fit's.
//
// # Reproducibility
//
// For a fixed seed, the same events give the same published model bit
// for bit — item factors, user vectors, batch lists and metrics — in this
// process or a fresh one, whatever the shard count
// (TestTrainingIsReproducible, TestTrainingIsReproducibleAcrossProcesses).
// What could make runs differ, and what keeps them equal:
//
//   - Scan order. No store returns events in a fixed order (the in-memory
//     log walks a map; PostgreSQL and the archive return rows as stored,
//     and an import stores them from eight writers), and the order in
//     which a loader meets users and movies would number the rows and
//     columns: which row gets which random initial vector, which users
//     the holdout samples, how ties break. Load numbers them by id.
//   - Sums of an entry's events: float addition is not associative, so
//     als.Builder adds an entry's weights in increasing order, not in the
//     order they came.
//   - Parallel reductions. The trainer computes each half-step's Gram
//     matrix on its own goroutine from the whole fixed side, never as a
//     sum of per-shard parts; a row's solve reads only that row's data,
//     so any split of rows into shard blocks (or als.Train's workers)
//     gives the same factors; the loss, which is summed from shards, is
//     only reported. Batch top-k gives each user's list to one goroutine
//     and breaks ties by index; metrics are summed in user order.
//   - The search: a fixed number of trials drawn from the seed. Its time
//     budget is only a safety cap, and a search it cuts is logged and
//     recorded (stopped_by_budget), because its result then depends on
//     the machine's speed.
//
// Bits are equal on one architecture and Go release: another compiler
// may fuse multiply-adds (arm64 does), which changes the last bits.
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
// Users and Movies are sorted by id, whatever order the sources returned
// the events in, so that the same events always give the same Dataset.
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

// Scanner streams interactions: an InteractionLog's Scan, or the archive
// through ArchiveScanner.
type Scanner func(ctx context.Context, fn func(domain.Interaction) error) error

// ErrNoData means there is nothing to train on.
var ErrNoData = errors.New("training: no interactions")

// loadedEvent is what Load keeps per event until the matrix is built: 16
// bytes, so 10M events cost 160 MB on top of the matrix.
type loadedEvent struct {
	row, col int32
	t        int64
}

// Load reads every source into a Dataset. An event present in two
// sources counts once. The Dataset depends only on the set of events, not
// on the order of the sources or of their scans (see canonicalise).
//
// The archiver never leaves an event in both the hot table and the
// manifest (it records a file and deletes its rows in one transaction),
// and a loader that scans the hot table before the archive sees a file
// committed meanwhile in both scans rather than in neither. An event can
// also be stored again after it was archived: the hot table forgets the
// ids it archives, so re-importing a dataset, or a client retrying an old
// event, stores it a second time. So with more than one source Load
// remembers each event id as a 64-bit hash in sorted blocks (8 bytes an
// event; a hash set cost 45 bytes and doubled the load time at 10M
// events) and looks for repeats after the scan. Only if there are any
// does it scan again, skipping the repeats, which is the rare case.
func Load(ctx context.Context, sources ...Scanner) (*Dataset, error) {
	var ids *idHashes
	if len(sources) > 1 {
		ids = &idHashes{}
	}
	ds, err := load(ctx, sources, ids, nil)
	if err != nil || ids == nil {
		return ds, err
	}
	dups := ids.repeated()
	if len(dups) == 0 {
		return ds, nil
	}
	return load(ctx, sources, nil, dups)
}

// load reads the sources once. It records every event's id hash in ids
// (when not nil) and, when dups is not nil, counts an event whose hash is
// in dups only the first time.
func load(ctx context.Context, sources []Scanner, ids *idHashes, dups map[uint64]bool) (*Dataset, error) {
	ds := &Dataset{}
	users, movies := map[domain.UserID]int32{}, map[domain.MovieID]int32{}
	var b als.Builder
	var evs []loadedEvent
	for _, scan := range sources {
		err := scan(ctx, func(ev domain.Interaction) error {
			if ids != nil {
				ids.add(hashID(ev.EventID))
			}
			if dups != nil {
				h := hashID(ev.EventID)
				if done, dup := dups[h]; dup {
					if done {
						return nil
					}
					dups[h] = true
				}
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
	if err := ds.canonicalise(&b, evs); err != nil {
		return nil, err
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

// canonicalise renumbers users and movies in the order of their ids, in
// the builder's triplets, in evs and in ds, instead of the order the scan
// met them in. No store promises an order (the in-memory log walks a map,
// PostgreSQL returns rows as they lie on disk, an import stores them from
// eight writers at once), and the indices decide everything downstream:
// which row gets which random initial vector, which users the holdout
// samples, how ties are broken. Numbered by id, the same events give the
// same matrix, and so the same model, however they were returned.
func (ds *Dataset) canonicalise(b *als.Builder, evs []loadedEvent) error {
	users := relabel(ds.Users)
	movies := relabel(ds.Movies)
	if err := b.Relabel(users, movies); err != nil {
		return err
	}
	for i := range evs {
		evs[i].row, evs[i].col = users[evs[i].row], movies[evs[i].col]
	}
	permute(ds.Users, users)
	permute(ds.Movies, movies)
	permute(ds.UserEvents, users)
	permute(ds.UserLast, users)
	return nil
}

// relabel returns, for each of ids, its position once ids are sorted.
func relabel[T ~string](ids []T) []int32 {
	order := make([]int32, len(ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(string(ids[a]), string(ids[b])) })
	label := make([]int32, len(ids))
	for pos, i := range order {
		label[i] = int32(pos)
	}
	return label
}

// permute moves s[i] to s[label[i]] for every i.
func permute[T any](s []T, label []int32) {
	out := make([]T, len(s))
	for i, v := range s {
		out[label[i]] = v
	}
	copy(s, out)
}

// hashBlock is how many hashes one block of idHashes holds (8 MiB):
// fixed blocks grow without append's transient doubling.
const hashBlock = 1 << 20

// idHashes collects event id hashes in fixed-size blocks.
type idHashes struct{ blocks [][]uint64 }

func (h *idHashes) add(x uint64) {
	if n := len(h.blocks); n == 0 || len(h.blocks[n-1]) == hashBlock {
		h.blocks = append(h.blocks, make([]uint64, 0, hashBlock))
	}
	last := &h.blocks[len(h.blocks)-1]
	*last = append(*last, x)
}

// repeated returns the hashes seen more than once (mapped to false), or
// nil: it sorts each block, then merges them, comparing neighbours.
func (h *idHashes) repeated() map[uint64]bool {
	for _, b := range h.blocks {
		slices.Sort(b)
	}
	var out map[uint64]bool
	pos := make([]int, len(h.blocks))
	var prev uint64
	first := true
	for {
		best := -1
		for i, b := range h.blocks {
			if pos[i] < len(b) && (best < 0 || b[pos[i]] < h.blocks[best][pos[best]]) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		x := h.blocks[best][pos[best]]
		pos[best]++
		if !first && x == prev {
			if out == nil {
				out = map[uint64]bool{}
			}
			out[x] = false
		}
		prev, first = x, false
	}
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
