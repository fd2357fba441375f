package s3_test

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/adapters/s3"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
	"github.com/marquee-recsys/marquee/training"
)

func TestParquetArchiveOnMinIO(t *testing.T) {
	t.Parallel()
	porttest.Archive(t, func(t *testing.T) ports.Archive { return parquet.New(newTestStore(t)) })
}

// openTestDB opens a migrated PostgreSQL schema of its own, dropped at the
// end, or skips (fails under CI=true) without a server.
func openTestDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	url := env("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	schema := "marquee_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, url, postgres.WithSchema(schema))
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		tb.Skipf("PostgreSQL unavailable at %s (run deploy/local/postgres.sh as root): %v", url, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.Pool().Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
		db.Close()
	})
	return db
}

// fillDay copies n events of day into the hot table (COPY, fast) and
// returns their ids.
func fillDay(tb testing.TB, db *postgres.DB, day time.Time, n int, prefix string) {
	tb.Helper()
	ctx := context.Background()
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		step := (24*time.Hour - time.Microsecond) / time.Duration(n)
		ts := day.Add(time.Duration(i) * step).Truncate(time.Microsecond)
		var value *float64
		typ, weight := "click", 2.0
		if i%5 == 0 {
			v := float64(1 + i%9/2)
			value, typ, weight = &v, "rating", v
		}
		var recLog *string
		if i%7 == 0 {
			s := "rl-" + strconv.Itoa(i/7)
			recLog = &s
		}
		row := []any{fmt.Sprintf("%s-%08d", prefix, i), "user_" + strconv.Itoa(i%50000), "movie_" + strconv.Itoa(i*7919%20000),
			typ, value, weight, ts, recLog, ts.Add(time.Second)}
		i++
		return row, nil
	})
	cols := []string{"event_id", "user_id", "movie_id", "event_type", "value", "weight", "ts", "rec_log_id", "ingested_at"}
	if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"rt_user_interactions"}, cols, src); err != nil {
		tb.Fatal(err)
	}
}

// heapSampler records the peak live heap above the level at its start.
type heapSampler struct {
	base uint64
	top  atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func sampleHeap() *heapSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapSampler{base: ms.HeapAlloc, stop: make(chan struct{})}
	h.wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > h.top.Load() {
				h.top.Store(ms.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

// Peak stops the sampler and returns the peak above the start.
func (h *heapSampler) Peak() uint64 {
	close(h.stop)
	h.wg.Wait()
	return max(h.top.Load(), h.base) - h.base
}

func countHot(tb testing.TB, db *postgres.DB) int {
	tb.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM rt_user_interactions").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestArchivingADayOf1MRowsOnPostgresAndMinIO runs the archiver over a
// PostgreSQL hot table holding one day of a million rows into MinIO, in
// chunks of 100K, and checks that every row moved exactly once, that the
// heap stayed bounded, and reports the throughput and file sizes
// (BENCHMARKS.md). MARQUEE_ARCHIVE_ROWS changes the size.
func TestArchivingADayOf1MRowsOnPostgresAndMinIO(t *testing.T) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MARQUEE_ARCHIVE_ROWS")); err == nil && v > 0 {
		n = v
	}
	db, store := openTestDB(t), newTestStore(t)
	archive := parquet.New(store)
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	fillDay(t, db, day, n, "ev")
	fillDay(t, db, day.Add(72*time.Hour), 1000, "recent") // inside the retention
	now := day.Add(72 * time.Hour)
	deps := actors.ArchiverDeps{Ledger: db.Interactions(), Archive: archive, Now: func() time.Time { return now }}
	cfg := actors.ArchiverConfig{Chunk: 100_000}
	heap := sampleHeap()
	start := time.Now()
	run := actors.RunArchive(context.Background(), deps, cfg, actors.ArchiveRun{Cutoff: now.Add(-48 * time.Hour)}, nil)
	took := time.Since(start)
	peak := heap.Peak()
	if run.Error != "" {
		t.Fatal(run.Error)
	}
	if run.Rows != n || run.Files != (n+99_999)/100_000 || countHot(t, db) != 1000 {
		t.Fatalf("run %+v; %d rows left hot, want the 1000 recent ones", run, countHot(t, db))
	}
	t.Logf("archived %d rows in %d files (%.1f MB, %.1f MB per million events) in %s: %.0f rows/s; peak heap %.0f MB above the start",
		run.Rows, run.Files, float64(run.Bytes)/1e6, float64(run.Bytes)/1e6/(float64(run.Rows)/1e6), took.Round(time.Millisecond),
		float64(run.Rows)/took.Seconds(), float64(peak)/1e6)
	if peak > 300e6 {
		t.Errorf("peak heap %.0f MB: archiving must stream its chunks (bound 300 MB)", float64(peak)/1e6)
	}
	// Every archived row is in exactly one committed file.
	seen := make(map[string]struct{}, n)
	err := training.ArchiveScanner(db.Interactions(), archive)(context.Background(), func(ev domain.Interaction) error {
		if _, dup := seen[ev.EventID]; dup {
			return fmt.Errorf("event %s archived twice", ev.EventID)
		}
		seen[ev.EventID] = struct{}{}
		return nil
	})
	if err != nil || len(seen) != n {
		t.Fatalf("%d distinct archived events, %v; want %d", len(seen), err, n)
	}
}

// crashingLedger loses its Commits while crash is set.
type crashingLedger struct {
	ports.ArchiveLedger
	crash atomic.Bool
}

func (l *crashingLedger) Commit(ctx context.Context, f ports.ArchiveFile, ids []string) error {
	if l.crash.Load() {
		return fmt.Errorf("killed before committing %s", f.Key)
	}
	return l.ArchiveLedger.Commit(ctx, f, ids)
}

func TestCrashMinIODownAndRerunOnPostgresAndMinIO(t *testing.T) {
	t.Parallel()
	db, store := openTestDB(t), newTestStore(t)
	ctx := context.Background()
	// MinIO stamps objects with the real time, which orphan cleanup
	// compares with the archiver's clock: keep that one near it.
	now := time.Now().UTC()
	day := now.Add(-10 * 24 * time.Hour).Truncate(24 * time.Hour)
	for d := range 3 {
		fillDay(t, db, day.Add(time.Duration(d)*24*time.Hour), 2500, fmt.Sprint("d", d))
	}
	total := countHot(t, db)
	ledger := &crashingLedger{ArchiveLedger: db.Interactions()}
	clock := func() time.Time { return now }
	run := func(a ports.Archive) actors.ArchiveRun {
		return actors.RunArchive(ctx, actors.ArchiverDeps{Ledger: ledger, Archive: a, Now: clock},
			actors.ArchiverConfig{Chunk: 1000}, actors.ArchiveRun{Cutoff: now.Add(-48 * time.Hour)}, nil)
	}
	exactlyOnce := func(when string) (archived int) {
		t.Helper()
		ids := map[string]int{}
		count := func(ev domain.Interaction) error { ids[ev.EventID]++; return nil }
		if err := db.Interactions().Scan(ctx, count); err != nil {
			t.Fatal(err)
		}
		hot := len(ids)
		if err := training.ArchiveScanner(db.Interactions(), parquet.New(store))(ctx, count); err != nil {
			t.Fatal(err)
		}
		for id, c := range ids {
			if c != 1 {
				t.Fatalf("%s: event %s present %d times", when, id, c)
			}
		}
		if len(ids) != total {
			t.Fatalf("%s: %d events, want %d", when, len(ids), total)
		}
		return total - hot
	}

	// MinIO down: a store on a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	down, err := s3.New(dead, store.Bucket(), s3.WithCredentials("minioadmin", "minioadmin"), s3.WithMaxRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(parquet.New(down)); r.Error == "" || r.Files != 0 {
		t.Fatalf("run with MinIO down: %+v", r)
	}
	if exactlyOnce("MinIO down") != 0 {
		t.Fatal("rows left the hot table while MinIO was down")
	}

	// A crash between the verified write and the commit.
	ledger.crash.Store(true)
	if r := run(parquet.New(store)); r.Error == "" || r.Files != 0 {
		t.Fatalf("crashed run: %+v", r)
	}
	orphans, err := parquet.New(store).List(ctx)
	if err != nil || len(orphans) != 1 {
		t.Fatalf("after the crash: %d files in MinIO, %v; want the orphan", len(orphans), err)
	}
	if exactlyOnce("after the crash") != 0 {
		t.Fatal("the orphan counts")
	}

	// The rerun archives everything; an hour later the orphan goes.
	ledger.crash.Store(false)
	r := run(parquet.New(store))
	if r.Error != "" || r.Rows != total || r.Orphans != 0 {
		t.Fatalf("rerun: %+v", r)
	}
	if exactlyOnce("after the rerun") != total {
		t.Fatal("not everything was archived")
	}
	now = now.Add(2 * time.Hour)
	r = run(parquet.New(store))
	if r.Error != "" || r.Orphans != 1 {
		t.Fatalf("cleanup run: %+v", r)
	}
	left, err := parquet.New(store).List(ctx)
	files, ferr := db.Interactions().Files(ctx)
	if err != nil || ferr != nil || len(left) != len(files) {
		t.Fatalf("%d files in MinIO, %d in the manifest (%v, %v)", len(left), len(files), err, ferr)
	}
	exactlyOnce("after cleanup")
}
