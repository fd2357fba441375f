package postgres_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Behaviour beyond the contract suites: bulk paths, duplicates within one
// call, NULL columns, and agreement with the in-memory twins.

func TestCatalogDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	c, ctx := db.Catalog(), testCtx(t)
	must(t, c.Put(ctx,
		domain.Movie{ID: "b", Title: "first", Genres: []string{"Drama"}},
		domain.Movie{ID: "a", Title: "Ä title, with \"quotes\"", Year: 1999, Genres: []string{"Sci-Fi", "Action, Adventure"}},
		domain.Movie{ID: "b", Title: "second"}, // the last one wins
	))
	got, err := c.GetMany(ctx, []domain.MovieID{"a", "b"})
	must(t, err)
	if a := got["a"]; a.Title != "Ä title, with \"quotes\"" || a.Year != 1999 || !slices.Equal(a.Genres, []string{"Sci-Fi", "Action, Adventure"}) {
		t.Fatalf("a = %+v", a)
	}
	if b := got["b"]; b.Title != "second" || b.Genres != nil {
		t.Fatalf("b = %+v", b)
	}
	// Bytewise order, as in Go: upper case before lower case.
	must(t, c.Put(ctx, domain.Movie{ID: "Z", Title: "z"}, domain.Movie{ID: "_", Title: "u"}))
	page, err := c.List(ctx, "", 10)
	must(t, err)
	var ids []domain.MovieID
	for _, m := range page {
		ids = append(ids, m.ID)
	}
	if want := []domain.MovieID{"Z", "_", "a", "b"}; !slices.Equal(ids, want) {
		t.Fatalf("List order = %v, want %v", ids, want)
	}
	if page, err := c.List(ctx, "", 0); err != nil || len(page) != 0 {
		t.Fatalf("List limit 0 = %v, %v", page, err)
	}
}

func TestProfileDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	s, ctx := db.Profiles(), testCtx(t)
	must(t, s.Put(ctx, domain.Profile{UserID: "kept", Vector: []float32{1, 2}, InteractionCount: 5}))
	var ps []domain.Profile
	for i := range 3000 {
		ps = append(ps, domain.Profile{UserID: domain.UserID(fmt.Sprint("u", i)), Vector: []float32{float32(i), -1, 0.25},
			ModelVersion: "v2", InteractionCount: 2, UpdatedAt: time.Unix(int64(i), 0).UTC()})
	}
	ps = append(ps,
		domain.Profile{UserID: "kept", Vector: []float32{9}, ModelVersion: "v2", InteractionCount: 4},
		domain.Profile{UserID: "twice", Vector: []float32{1}, ModelVersion: "first", InteractionCount: 3},
		domain.Profile{UserID: "twice", Vector: []float32{2}, ModelVersion: "older", InteractionCount: 1}, // applied in order: skipped
		domain.Profile{UserID: "novec", ModelVersion: "v2", InteractionCount: 1},
	)
	must(t, s.PutTrained(ctx, ps))
	for id, want := range map[domain.UserID]string{"kept": "", "twice": "first", "novec": "v2", "u2999": "v2"} {
		p, err := s.Get(ctx, id)
		must(t, err)
		if p.ModelVersion != want {
			t.Errorf("%s: model %q, want %q", id, p.ModelVersion, want)
		}
	}
	p, err := s.Get(ctx, "u1234")
	must(t, err)
	if !slices.Equal(p.Vector, []float32{1234, -1, 0.25}) || !p.UpdatedAt.Equal(time.Unix(1234, 0)) {
		t.Fatalf("u1234 = %+v", p)
	}
	if p, _ := s.Get(ctx, "novec"); p.Vector != nil {
		t.Fatalf("profile without vector came back with %v", p.Vector)
	}
}

func TestInteractionDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	l, ctx := db.Interactions(), testCtx(t)
	ev := domain.Interaction{EventID: "bare", UserID: "u", MovieID: "m", Type: domain.EventView, Weight: 1,
		Time: time.Date(2026, 1, 1, 0, 0, 0, 123000, time.UTC), IngestedAt: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)}
	_, err := l.Append(ctx, ev)
	must(t, err)
	h, err := l.UserHistory(ctx, "u")
	must(t, err)
	if len(h) != 1 || h[0] != ev {
		t.Fatalf("no value, no rec_log_id: got %+v, want %+v", h, ev)
	}

	// More rows than one cursor fetch, inserted server-side for speed.
	_, err = db.Pool().Exec(ctx, `INSERT INTO rt_user_interactions (event_id, user_id, movie_id, event_type, weight, ts, ingested_at)
		SELECT 'bulk-' || i, 'bulk-user-' || (i % 100), 'm' || (i % 500), 'click', 2, now(), now() FROM generate_series(1, 12000) AS i`)
	must(t, err)
	seen := map[string]bool{}
	appended := 0
	must(t, l.Scan(ctx, func(ev domain.Interaction) error {
		if seen[ev.EventID] {
			t.Fatalf("event %s scanned twice", ev.EventID)
		}
		seen[ev.EventID] = true
		if len(seen)%4000 == 0 { // the callback may use the log meanwhile
			if _, err := l.Append(ctx, domain.Interaction{EventID: fmt.Sprint("during-", len(seen)), UserID: "x", MovieID: "m",
				Type: domain.EventView, Weight: 1, Time: time.Now(), IngestedAt: time.Now()}); err != nil {
				return err
			}
			appended++
		}
		return nil
	}))
	if len(seen) != 12001 {
		t.Fatalf("scan saw %d events, want 12001 (a snapshot from before the scan)", len(seen))
	}
	calls := 0
	stop := errors.New("stop")
	if err := l.Scan(ctx, func(domain.Interaction) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("stopping scan: err = %v after %d calls", err, calls)
	}
	if appended != 3 {
		t.Fatalf("%d appends during the scan, want 3", appended)
	}
}

// TestPopularMatchesMemory feeds the same events to the PostgreSQL store
// and the in-memory one and expects the same ranking and scores.
func TestPopularMatchesMemory(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	pg, ctx := db.Popular(), testCtx(t)
	mem := memory.NewPopularStore(domain.DefaultPopularity())
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	events := make(chan struct {
		movie domain.MovieID
		w     float64
		at    time.Time
	}, 1000)
	for range 4 {
		wg.Go(func() {
			for ev := range events {
				if err := pg.Record(ctx, ev.movie, ev.w, ev.at); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 1000 {
		ev := struct {
			movie domain.MovieID
			w     float64
			at    time.Time
		}{domain.MovieID(fmt.Sprint("m", r.IntN(60))), float64(r.IntN(6) - 1), now.Add(-time.Duration(r.Int64N(int64(1000 * time.Hour))))}
		if r.IntN(50) == 0 {
			ev.at = now.Add(-3 * 365 * 24 * time.Hour) // keys far apart: the underflow guard
		}
		must(t, mem.Record(ctx, ev.movie, ev.w, ev.at))
		events <- ev
	}
	close(events)
	wg.Wait()
	exclude := domain.MovieSet{"m1": {}, "m2": {}, "m3": {}}
	want, err := mem.Top(ctx, 40, exclude, now)
	must(t, err)
	got, err := pg.Top(ctx, 40, exclude, now)
	must(t, err)
	sameTop(t, got, want)
	if top, err := pg.Top(ctx, 0, nil, now); err != nil || len(top) != 0 {
		t.Fatalf("Top(0) = %v, %v", top, err)
	}
}

func TestBatchDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	s, ctx := db.Batch(), testCtx(t)
	gen := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	titled := domain.RecList{GeneratedAt: gen, Items: []domain.ScoredMovie{{MovieID: "a", Score: 0.1 + 0.2, Title: "A"}, {MovieID: "b", Score: -1e-300}}}
	must(t, s.PutAll(ctx, "v9", []ports.BatchList{
		{UserID: "u", List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "x"}}}},
		{UserID: "u", List: titled}, // the last one wins
		{UserID: "empty", List: domain.RecList{GeneratedAt: gen}},
	}))
	got, err := s.Get(ctx, "u")
	must(t, err)
	if got.ModelVersion != "v9" || got.Tier != domain.TierBatch || !got.GeneratedAt.Equal(gen) || !reflect.DeepEqual(got.Items, titled.Items) {
		t.Fatalf("u = %+v", got)
	}
	got, err = s.Get(ctx, "empty")
	must(t, err)
	if len(got.Items) != 0 {
		t.Fatalf("empty list = %+v", got)
	}
}

func TestAnalyticsDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	a, ctx := db.Analytics(), testCtx(t)
	var lists []domain.Served
	var fbs []domain.Feedback
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 500 {
		id := fmt.Sprint("rl-", i)
		lists = append(lists, domain.Served{RecLogID: id, UserID: "u", ServedBy: domain.TierPopular, ServedAt: at, Latency: time.Duration(i) * time.Microsecond,
			List: domain.RecList{Tier: domain.TierPopular, Items: []domain.ScoredMovie{{MovieID: "m", Score: float64(i) / 3}}}})
		fbs = append(fbs, domain.Feedback{RecLogID: id, EventID: fmt.Sprint("e-", i%250), UserID: "u", MovieID: "m", Type: domain.EventClick, Time: at, Position: 1})
	}
	must(t, a.LogServed(ctx, lists...))
	must(t, a.RecordFeedback(ctx, fbs...)) // every event id twice in one call
	s, err := a.ServedList(ctx, "rl-299")
	must(t, err)
	if s.Latency != 299*time.Microsecond || s.List.Items[0].Score != 299.0/3 || s.ServedBy != domain.TierPopular {
		t.Fatalf("rl-299 = %+v", s)
	}
	var n int
	must(t, db.Pool().QueryRow(ctx, "SELECT count(*) FROM recommendation_feedback").Scan(&n))
	if n != 250 {
		t.Fatalf("%d feedback rows, want 250", n)
	}
}

func TestModelDetails(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	s, ctx := db.Models(), testCtx(t)
	m := randomModel("m1", 300, 8, 5)
	m.CreatedAt = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	must(t, s.Save(ctx, m))
	if err := s.Save(ctx, m); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("second Save: err = %v, want ErrInvalid", err)
	}
	for i := range 3 {
		must(t, s.Save(ctx, randomModel(fmt.Sprint("c", i), 10, 2, uint64(i))))
	}
	var wg sync.WaitGroup
	for _, v := range []string{"m1", "c0", "c1", "c2", "m1", "c1"} {
		wg.Go(func() {
			if err := s.Promote(ctx, v); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	must(t, s.Promote(ctx, "m1"))
	must(t, s.Promote(ctx, "m1")) // promoting the serving model changes nothing
	cur, err := s.Current(ctx)
	must(t, err)
	if cur.Version != "m1" || !slices.Equal(cur.ItemFactors, m.ItemFactors) || !slices.Equal(cur.Movies, m.Movies) || !cur.CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("current = %s with %d factors", cur.Version, len(cur.ItemFactors))
	}
	all, err := s.List(ctx)
	must(t, err)
	serving := 0
	for _, m := range all {
		if m.Status == domain.ModelServing {
			serving++
		}
	}
	if len(all) != 4 || all[0].Version != "c2" || serving != 1 {
		t.Fatalf("list = %+v (%d serving)", all, serving)
	}
}

// TestPopularRecordAllMatchesMemory: events recorded in batches (one
// statement each) rank and score as the same events recorded one by one.
func TestPopularRecordAllMatchesMemory(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	pg, ctx := db.Popular(), testCtx(t)
	mem := memory.NewPopularStore(domain.DefaultPopularity())
	r := rand.New(rand.NewPCG(5, 6))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var batch []ports.PopularEvent
	for i := range 1000 {
		ev := ports.PopularEvent{Movie: domain.MovieID(fmt.Sprint("m", r.IntN(60))), Weight: float64(r.IntN(6) - 1),
			Time: now.Add(-time.Duration(r.Int64N(int64(1000 * time.Hour))))}
		if r.IntN(50) == 0 {
			ev.Time = now.Add(-3 * 365 * 24 * time.Hour)
		}
		must(t, mem.Record(ctx, ev.Movie, ev.Weight, ev.Time))
		if batch = append(batch, ev); len(batch) == 37 || i == 999 {
			must(t, pg.RecordAll(ctx, batch))
			batch = nil
		}
	}
	want, err := mem.Top(ctx, 60, nil, now)
	must(t, err)
	got, err := pg.Top(ctx, 60, nil, now)
	must(t, err)
	sameTop(t, got, want)
}

// TestPopularRecordAllConcurrently: batches that share movies, written at
// once in different orders, never deadlock.
func TestPopularRecordAllConcurrently(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	pg, ctx := db.Popular(), testCtx(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 30 {
				batch := make([]ports.PopularEvent, 40)
				for i := range batch {
					batch[i] = ports.PopularEvent{Movie: domain.MovieID(fmt.Sprint("m", r.IntN(50))), Weight: 1, Time: now}
				}
				if err := pg.RecordAll(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// sameTop fails unless got ranks and scores as want (the in-memory store).
func sameTop(t *testing.T, got, want []domain.ScoredMovie) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d movies, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].MovieID != want[i].MovieID || math.Abs(got[i].Score-want[i].Score) > 1e-9*want[i].Score {
			t.Fatalf("rank %d: %+v, memory has %+v", i, got[i], want[i])
		}
	}
}
