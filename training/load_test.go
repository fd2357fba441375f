package training

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

func TestLoadCountsAnEventInTwoSourcesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hot, archive := memory.NewInteractionLog(), memory.NewArchive()
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	evs := []domain.Interaction{
		{EventID: "a", UserID: "u1", MovieID: "m1", Type: domain.EventClick, Weight: 2, Time: day},
		{EventID: "b", UserID: "u1", MovieID: "m1", Type: domain.EventLike, Weight: 4, Time: day.Add(time.Hour)},
		{EventID: "c", UserID: "u2", MovieID: "m2", Type: domain.EventDislike, Weight: -4, Time: day},
	}
	// "a" and "b" are archived; "b" is then stored again (a re-import or
	// a late retry after archiving), so it is in the archive and hot.
	for _, ev := range evs {
		if _, err := hot.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	f, err := archive.WriteDay(ctx, day, evs[:2])
	if err != nil {
		t.Fatal(err)
	}
	if err := hot.Commit(ctx, f, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := hot.Append(ctx, evs[1]); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(ctx, hot.Scan, ArchiveScanner(hot, archive))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Events != 3 || len(ds.Users) != 2 || len(ds.Movies) != 2 || ds.Matrix.NNZ() != 2 {
		t.Fatalf("dataset: %d events, %d users, %d movies, %d entries", ds.Events, len(ds.Users), len(ds.Movies), ds.Matrix.NNZ())
	}
	got := entries(ds)
	if e := got[[2]string{"u1", "m1"}]; e.weight != 6 || e.time != day.Add(time.Hour).Unix() {
		t.Fatalf("u1 × m1 = %+v, want weight 6 at the later event", e)
	}
	u1 := index(ds.Users, "u1")
	if ds.UserEvents[u1] != 2 || !ds.UserLast[u1].Equal(day.Add(time.Hour)) {
		t.Fatalf("u1: %d events, last %v", ds.UserEvents[u1], ds.UserLast[u1])
	}
}

type entry struct {
	weight float32
	time   int64
}

// entries returns the matrix by ids, so datasets loaded in different
// orders (and so with different indices) compare.
func entries(ds *Dataset) map[[2]string]entry {
	out := map[[2]string]entry{}
	for u := range ds.Matrix.Rows {
		cols, vals := ds.Matrix.Row(u)
		for i, c := range cols {
			out[[2]string{string(ds.Users[u]), string(ds.Movies[c])}] = entry{vals[i], ds.Times[ds.Matrix.Indptr[u]+i]}
		}
	}
	return out
}

func index[T comparable](s []T, v T) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestLoadOnArchivePlusHotEqualsAllHot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Users = 300
	gen, err := synth.New(cfg, synth.Movies(200, 1))
	if err != nil {
		t.Fatal(err)
	}
	allHot, split := memory.NewInteractionLog(), memory.NewInteractionLog()
	if err := gen.Each(func(ev domain.Interaction) error {
		if _, err := allHot.Append(ctx, ev); err != nil {
			return err
		}
		_, err := split.Append(ctx, ev)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	store, err := localfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	archive := parquet.New(store)
	// Archive everything older than the middle of the history, as the
	// archiver does: one day at a time, in chunks.
	cutoff := cfg.Start.Add(cfg.Span / 2)
	files := 0
	for {
		rows, err := split.Pending(ctx, cutoff, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		f, err := archive.WriteDay(ctx, rows[0].Time, rows)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.EventID
		}
		if err := split.Commit(ctx, f, ids); err != nil {
			t.Fatal(err)
		}
		files++
	}
	if split.Len() == 0 || split.Len() == allHot.Len() {
		t.Fatalf("%d of %d events left hot: the split is not a split", split.Len(), allHot.Len())
	}
	want, err := Load(ctx, allHot.Scan)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, split.Scan, ArchiveScanner(split, archive))
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != want.Events || len(got.Users) != len(want.Users) || len(got.Movies) != len(want.Movies) || got.Matrix.NNZ() != want.Matrix.NNZ() {
		t.Fatalf("archive + hot: %d events, %d users, %d movies, %d entries; all hot: %d, %d, %d, %d",
			got.Events, len(got.Users), len(got.Movies), got.Matrix.NNZ(), want.Events, len(want.Users), len(want.Movies), want.Matrix.NNZ())
	}
	ge, we := entries(got), entries(want)
	for k, w := range we {
		if ge[k] != w {
			t.Fatalf("entry %v: archive + hot %+v, all hot %+v", k, ge[k], w)
		}
	}
	for u, id := range want.Users {
		g := index(got.Users, id)
		if got.UserEvents[g] != want.UserEvents[u] || !got.UserLast[g].Equal(want.UserLast[u]) {
			t.Fatalf("user %s: %d events, last %v; all hot: %d, %v", id, got.UserEvents[g], got.UserLast[g], want.UserEvents[u], want.UserLast[u])
		}
	}
	t.Logf("%d events: %d archived in %d files, %d hot; same %d×%d matrix with %d entries",
		want.Events, want.Events-split.Len(), files, split.Len(), len(want.Users), len(want.Movies), want.Matrix.NNZ())
}

// peakHeap samples the live heap while f runs and returns its peak above
// the heap before f.
func peakHeap(f func()) (peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var top atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > top.Load() {
				top.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if top.Load() < base {
		return 0
	}
	return top.Load() - base
}

// TestLoadDedupeCost measures what remembering event ids costs: the same
// events loaded from one source (no dedupe) and split over two (dedupe).
// MARQUEE_LOAD_EVENTS sets the size (default 300,000; BENCHMARKS.md uses
// 10,000,000).
func TestLoadDedupeCost(t *testing.T) {
	n := 300_000
	if v, err := strconv.Atoi(os.Getenv("MARQUEE_LOAD_EVENTS")); err == nil && v > 0 {
		n = v
	}
	cfg := synth.DefaultConfig()
	cfg.Users = max(1, n/40)
	gen, err := synth.New(cfg, synth.Movies(max(200, n/500), 1))
	if err != nil {
		t.Fatal(err)
	}
	half := cfg.Users / 2
	ctx := context.Background()
	scan := func(from, to int) Scanner {
		return func(_ context.Context, fn func(domain.Interaction) error) error { return gen.EachRange(from, to, fn) }
	}
	var one, two *Dataset
	var t1, t2 time.Duration
	p1 := peakHeap(func() {
		start := time.Now()
		one, err = Load(ctx, scan(0, cfg.Users))
		t1 = time.Since(start)
	})
	if err != nil {
		t.Fatal(err)
	}
	events := one.Events
	one = nil
	p2 := peakHeap(func() {
		start := time.Now()
		two, err = Load(ctx, scan(0, half), scan(half, cfg.Users))
		t2 = time.Since(start)
	})
	if err != nil {
		t.Fatal(err)
	}
	if two.Events != events {
		t.Fatalf("%d events with dedupe, %d without", two.Events, events)
	}
	t.Logf("%d events: one source (no dedupe) peak heap %.0f MB in %s; two sources (dedupe) %.0f MB in %s: +%.0f%%",
		events, float64(p1)/1e6, t1.Round(time.Millisecond), float64(p2)/1e6, t2.Round(time.Millisecond), 100*(float64(p2)/float64(p1)-1))
}

func TestRepeatedHashesAcrossBlocks(t *testing.T) {
	t.Parallel()
	var h idHashes
	n := 2*hashBlock + 12345
	for i := range n {
		h.add(uint64(n - i)) // descending, so every block needs its sort
	}
	if got := h.repeated(); got != nil {
		t.Fatalf("distinct hashes reported repeated: %d", len(got))
	}
	h = idHashes{}
	for i := range n {
		h.add(uint64(i % (n - 3))) // 0, 1, 2 come twice, the second time in the last block
	}
	got := h.repeated()
	if len(got) != 3 {
		t.Fatalf("repeated = %v, want 0, 1 and 2", got)
	}
	for _, x := range []uint64{0, 1, 2} {
		if done, ok := got[x]; !ok || done {
			t.Fatalf("repeated = %v, want 0, 1 and 2 mapped to false", got)
		}
	}
}

// TestLoadIgnoresScanOrder loads the same events in three orders: the
// dataset, indices included, must be the same, since the indices decide
// the random initial vectors and the holdout.
func TestLoadIgnoresScanOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Users = 200
	gen, err := synth.New(cfg, synth.Movies(150, 1))
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Interaction
	if err := gen.Each(func(ev domain.Interaction) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(evs)
	slices.Reverse(reversed)
	shuffled := slices.Clone(evs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	from := func(evs []domain.Interaction) Scanner {
		return func(_ context.Context, fn func(domain.Interaction) error) error {
			for _, ev := range evs {
				if err := fn(ev); err != nil {
					return err
				}
			}
			return nil
		}
	}
	want, err := Load(ctx, from(evs))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(want.Users) || !slices.IsSorted(want.Movies) {
		t.Fatal("users or movies are not in id order")
	}
	tests := []struct {
		name    string
		sources []Scanner
	}{
		{"reversed", []Scanner{from(reversed)}},
		{"shuffled", []Scanner{from(shuffled)}},
		{"two sources, second half first", []Scanner{from(evs[len(evs)/2:]), from(evs[:len(evs)/2])}},
	}
	for _, tt := range tests {
		got, err := Load(ctx, tt.sources...)
		if err != nil {
			t.Fatal(err)
		}
		m, w := got.Matrix, want.Matrix
		if !slices.Equal(got.Users, want.Users) || !slices.Equal(got.Movies, want.Movies) ||
			!slices.Equal(m.Indptr, w.Indptr) || !slices.Equal(m.Indices, w.Indices) || !slices.Equal(m.Data, w.Data) ||
			!slices.Equal(got.Times, want.Times) || !slices.Equal(got.UserEvents, want.UserEvents) ||
			!slices.EqualFunc(got.UserLast, want.UserLast, time.Time.Equal) || got.Events != want.Events {
			t.Errorf("%s: the dataset differs from the one loaded in generation order", tt.name)
		}
	}
}
