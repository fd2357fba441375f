package bootstrap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/movielens"
	"github.com/marquee-recsys/marquee/domain"
)

// TestImportStoresEveryEventAndSumsPopularity imports a dataset in
// batches (into the in-memory stores, which take events one at a time, and
// into PostgreSQL, which takes batches) and checks that every event is
// stored once, a re-import adds nothing, and the popularity store ranks as
// if each event had been recorded on its own.
func TestImportStoresEveryEventAndSumsPopularity(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var movies []domain.Movie
	for i := range 40 {
		movies = append(movies, domain.Movie{ID: domain.MovieID(fmt.Sprint("m", i)), Title: fmt.Sprint("Movie ", i)})
	}
	types := []domain.EventType{domain.EventView, domain.EventClick, domain.EventLike, domain.EventDislike, domain.EventWatchComplete}
	var events []domain.Interaction
	for i := range 2345 {
		typ := types[i%len(types)]
		events = append(events, domain.Interaction{EventID: fmt.Sprint("imp-", i), UserID: domain.UserID(fmt.Sprint("u", i%97)),
			MovieID: movies[(i*i)%len(movies)].ID, Type: typ, Weight: domain.DefaultWeights().For(typ, nil),
			Time: base.Add(time.Duration(i*37%20000) * time.Minute)})
	}
	dir := t.TempDir()
	if _, err := movielens.Write(ctx, dir, movies, func(fn func(domain.Interaction) error) error {
		for _, ev := range events {
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The reference: every event recorded on its own.
	pop := domain.DefaultPopularity()
	ref := memory.NewPopularStore(pop)
	for _, ev := range events {
		if err := ref.Record(ctx, ev.MovieID, ev.Weight, ev.Time); err != nil {
			t.Fatal(err)
		}
	}
	now := base.Add(30 * 24 * time.Hour)
	want, err := ref.Top(ctx, len(movies), nil, now)
	if err != nil {
		t.Fatal(err)
	}

	stores := map[string]Stores{"memory": memoryStores(Config{Popularity: pop})}
	if testing.Short() {
		t.Log("short: PostgreSQL skipped")
	} else {
		dbURL, _ := realServices(t)
		cfg := Config{DatabaseURL: dbURL, DatabaseSchema: fmt.Sprintf("import%d", time.Now().UnixNano()), Popularity: pop}
		s, closeStores, err := OpenStores(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeStores)
		stores["postgres"] = s
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			st, err := ImportMovieLens(ctx, s, dir, domain.DefaultWeights(), logger, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Interactions != int64(len(events)) || st.Inserted != int64(len(events)) {
				t.Fatalf("first import: %+v, want %d events inserted", st, len(events))
			}
			again, err := ImportMovieLens(ctx, s, dir, domain.DefaultWeights(), logger, nil)
			if err != nil || again.Inserted != 0 {
				t.Fatalf("re-import: %+v %v, want nothing inserted", again, err)
			}
			got, err := s.Popular.Top(ctx, len(movies), nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d popular movies, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].MovieID != want[i].MovieID || math.Abs(got[i].Score-want[i].Score) > 1e-6*want[i].Score {
					t.Fatalf("popular #%d: %v %v, want %v %v", i, got[i].MovieID, got[i].Score, want[i].MovieID, want[i].Score)
				}
			}
		})
	}
}
