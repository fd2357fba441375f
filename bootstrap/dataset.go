package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marquee-recsys/marquee/adapters/movielens"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ImportStats reports what an import stored.
type ImportStats struct {
	Layout       string
	Movies       int
	Interactions int64 // accepted from the files
	Inserted     int64 // new in the interaction log (a re-import inserts none)
	Skipped      int64 // invalid lines, counted and logged
	Seconds      float64
}

// importWorkers stores interactions concurrently: the interaction log and
// the popularity store are order-independent (history is kept by time,
// popularity is a sum), and a database wants several round trips in flight.
const importWorkers = 8

// ImportMovieLens loads a MovieLens-format directory (ML-100K, ml-latest or
// ml-25m, or one written by `marquee gen`) straight into the stores: the
// catalog first, then every interaction into the interaction log and the
// popularity store. It is a bulk path beside the online one: events do not
// go through Kafka, and user actors reconcile a user's profile from the
// log the first time they start. Re-importing is a no-op (event ids are
// stable). progress, if set, is called every 10,000 interactions.
func ImportMovieLens(ctx context.Context, s Stores, dir string, w domain.Weights, log *slog.Logger, progress func(done int64)) (ImportStats, error) {
	start := time.Now()
	ds, err := movielens.Open(dir, movielens.WithWeights(w))
	if err != nil {
		return ImportStats{}, err
	}
	st := ImportStats{Layout: string(ds.Layout())}
	movies, err := ds.Movies(ctx)
	if err != nil {
		return st, err
	}
	for i := 0; i < len(movies); i += 1000 {
		if err := s.Catalog.Put(ctx, movies[i:min(i+1000, len(movies))]...); err != nil {
			return st, fmt.Errorf("store movies: %w", err)
		}
	}
	st.Movies = len(movies)

	inserted, err := storeAll(ctx, s, func(fn func(domain.Interaction) error) error { return ds.EachInteraction(ctx, fn) }, progress)
	stats := ds.Stats()
	st.Interactions, st.Skipped = stats.Interactions.Accepted, stats.Interactions.Skipped+stats.Movies.Skipped
	st.Inserted, st.Seconds = inserted, time.Since(start).Seconds()
	for _, le := range append(stats.Movies.Errors, stats.Interactions.Errors...) {
		log.Warn("skipped a line", "err", le)
	}
	if err != nil {
		return st, fmt.Errorf("import %s: %w", dir, err)
	}
	log.Info("dataset imported", "dir", dir, "layout", st.Layout, "movies", st.Movies, "interactions", st.Interactions,
		"inserted", st.Inserted, "skipped", st.Skipped, "seconds", st.Seconds)
	return st, nil
}

// storeAll stores every interaction each yields into the interaction log
// and, for the new ones, the popularity store, with importWorkers
// concurrent writers taking batches of importBatch events: one write to
// each per batch where the stores take batches (PostgreSQL). It returns how many were
// new.
func storeAll(ctx context.Context, s Stores, each func(func(domain.Interaction) error) error, progress func(int64)) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan []domain.Interaction, 2*importWorkers)
	var inserted, seen atomic.Int64
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Go(func() {
			for batch := range work {
				n, err := storeBatch(ctx, s, batch)
				inserted.Add(int64(n))
				if err != nil {
					cancel(err)
					return
				}
				total := seen.Add(int64(len(batch)))
				if progress != nil && total/10000 != (total-int64(len(batch)))/10000 {
					progress(total)
				}
			}
		})
	}
	batch := make([]domain.Interaction, 0, importBatch)
	send := func() error {
		select {
		case work <- batch:
			batch = make([]domain.Interaction, 0, importBatch)
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	err := each(func(ev domain.Interaction) error {
		if batch = append(batch, ev); len(batch) == importBatch {
			return send()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	close(work)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && err == nil {
		err = cause
	}
	return inserted.Load(), err
}

// importBatch is the events of one import write.
const importBatch = 500

// storeBatch stores one batch and records the popularity of its new events.
func storeBatch(ctx context.Context, s Stores, batch []domain.Interaction) (int, error) {
	var ins []bool
	if b, ok := s.Log.(ports.BatchAppender); ok {
		var err error
		if ins, err = b.AppendBatch(ctx, batch); err != nil {
			return 0, fmt.Errorf("store %d events from %s: %w", len(batch), batch[0].EventID, err)
		}
	} else {
		ins = make([]bool, len(batch))
		for i, ev := range batch {
			var err error
			if ins[i], err = s.Log.Append(ctx, ev); err != nil {
				return 0, fmt.Errorf("store event %s: %w", ev.EventID, err)
			}
		}
	}
	var popular []ports.PopularEvent
	for i, ev := range batch {
		if ins[i] {
			popular = append(popular, ports.PopularEvent{Movie: ev.MovieID, Weight: ev.Weight, Time: ev.Time})
		}
	}
	if err := ports.RecordPopular(ctx, s.Popular, popular); err != nil {
		return len(popular), fmt.Errorf("record popularity: %w", err)
	}
	return len(popular), nil
}
