package actors

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/training"
)

// clock is a settable clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) {
	c.ns.Add(int64(d))
}

// archiveWorld is a hot table with five days of history, a Parquet
// archive in a temporary directory, and a running archiver over them.
type archiveWorld struct {
	hot     *memory.InteractionLog
	archive *switchableArchive
	ledger  *crashableLedger
	clock   *clock
	events  map[string]domain.Interaction
	as      *actor.ActorSystem
	pid     *actor.PID
}

// switchableArchive fails like a down MinIO while down is set, and blocks
// writes while gate is set.
type switchableArchive struct {
	ports.Archive
	down atomic.Bool
	mu   sync.Mutex
	gate chan struct{}
}

func (a *switchableArchive) WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ports.ArchiveFile, error) {
	a.mu.Lock()
	gate := a.gate
	a.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ports.ArchiveFile{}, ctx.Err()
		}
	}
	if a.down.Load() {
		return ports.ArchiveFile{}, fmt.Errorf("s3: put: dial tcp 127.0.0.1:9000: connection refused: %w", ports.ErrUnavailable)
	}
	return a.Archive.WriteDay(ctx, day, rows)
}

// crashableLedger loses every Commit while crash is set: the process
// "dies" after the file is written and before the hot rows are deleted.
type crashableLedger struct {
	ports.ArchiveLedger
	crash atomic.Bool
}

func (l *crashableLedger) Commit(ctx context.Context, f ports.ArchiveFile, ids []string) error {
	if l.crash.Load() {
		return fmt.Errorf("process killed before committing %s", f.Key)
	}
	return l.ArchiveLedger.Commit(ctx, f, ids)
}

func newArchiveWorld(t *testing.T, cfg ArchiverConfig) *archiveWorld {
	t.Helper()
	store, err := localfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	w := &archiveWorld{
		hot: memory.NewInteractionLog(), archive: &switchableArchive{Archive: parquet.New(store)},
		clock: newClock(now), events: map[string]domain.Interaction{},
	}
	w.ledger = &crashableLedger{ArchiveLedger: w.hot}
	ctx := context.Background()
	for h := 1; h <= 120; h++ { // five days back, three events an hour
		for k := range 3 {
			at := now.Add(-time.Duration(h)*time.Hour + time.Duration(k)*time.Minute)
			ev := domain.Interaction{
				EventID: fmt.Sprintf("ev-%03d-%d", h, k), UserID: domain.UserID(fmt.Sprint("u", h%7)),
				MovieID: domain.MovieID(fmt.Sprint("m", (h*3+k)%41)), Type: domain.EventClick, Weight: 2, Time: at,
				IngestedAt: at.Add(time.Second),
			}
			if k == 1 {
				v := 4.5
				ev.Type, ev.Value, ev.Weight, ev.RecLogID = domain.EventRating, &v, 4.5, "rl-1"
			}
			if _, err := w.hot.Append(ctx, ev); err != nil {
				t.Fatal(err)
			}
			w.events[ev.EventID] = ev
		}
	}
	w.as = actor.NewActorSystem()
	w.pid = w.as.Root.Spawn(NewArchiverProps(ArchiverDeps{Ledger: w.ledger, Archive: w.archive, Now: w.clock.Now}, cfg))
	t.Cleanup(func() {
		_ = w.as.Root.StopFuture(w.pid).Wait()
		w.as.Shutdown()
	})
	return w
}

func (w *archiveWorld) ask(t *testing.T, msg any) any {
	t.Helper()
	res, err := w.as.Root.RequestFuture(w.pid, msg, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runNow requests a run and waits for it to finish.
func (w *archiveWorld) runNow(t *testing.T) ArchiveRun {
	t.Helper()
	reply := w.ask(t, &ArchiveRequest{Reason: "test"}).(*ArchiveReply)
	if !reply.Started {
		t.Fatalf("a run was already going on: %+v", reply.Run)
	}
	return w.waitRun(t, func(r ArchiveRun) bool { return r.ID == reply.Run.ID && !r.Running })
}

// waitRun polls the status until the current run satisfies ok.
func (w *archiveWorld) waitRun(t *testing.T, ok func(ArchiveRun) bool) ArchiveRun {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := w.ask(t, &ArchiveStatusRequest{}).(*ArchiveStatus)
		if st.Current != nil && ok(*st.Current) {
			return *st.Current
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the archiver did not reach the expected state in 20s")
	return ArchiveRun{}
}

// checkExactlyOnce asserts that every event is in exactly one place: the
// hot table or one committed file (orphans are not counted), unchanged.
func (w *archiveWorld) checkExactlyOnce(t *testing.T) (hot, archived int) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]int{}
	check := func(ev domain.Interaction) error {
		want := w.events[ev.EventID]
		same := ev.UserID == want.UserID && ev.MovieID == want.MovieID && ev.Type == want.Type && ev.Weight == want.Weight &&
			ev.Time.Equal(want.Time) && ev.IngestedAt.Equal(want.IngestedAt) && ev.RecLogID == want.RecLogID &&
			(ev.Value == nil) == (want.Value == nil)
		if !same {
			return fmt.Errorf("event %s = %+v, want %+v", ev.EventID, ev, want)
		}
		seen[ev.EventID]++
		return nil
	}
	if err := w.hot.Scan(ctx, func(ev domain.Interaction) error { hot++; return check(ev) }); err != nil {
		t.Fatal(err)
	}
	files, err := w.hot.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.archive.Scan(ctx, files, ports.AllFields, func(ev domain.Interaction) error { archived++; return check(ev) }); err != nil {
		t.Fatal(err)
	}
	for id := range w.events {
		if seen[id] != 1 {
			t.Fatalf("event %s is present %d times across the hot table and the archive", id, seen[id])
		}
	}
	if len(seen) != len(w.events) {
		t.Fatalf("%d distinct events, want %d", len(seen), len(w.events))
	}
	return hot, archived
}

func TestArchiverMovesOldInteractionsDayByDayInChunks(t *testing.T) {
	t.Parallel()
	w := newArchiveWorld(t, ArchiverConfig{Every: -1, Chunk: 25})
	run := w.runNow(t)
	if run.Error != "" {
		t.Fatal(run.Error)
	}
	hot, archived := w.checkExactlyOnce(t)
	if hot != 48*3 || archived != len(w.events)-hot || run.Rows != archived {
		// Hours 1..47 are inside the 48h retention, and hour 48's events
		// too: the first is exactly at the cutoff, which is exclusive.
		t.Fatalf("hot %d, archived %d, run %+v", hot, archived, run)
	}
	files, err := w.hot.Files(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run.Files != len(files) || len(files) < archived/25 {
		t.Fatalf("%d files for %d rows (run says %d)", len(files), archived, run.Files)
	}
	for i, f := range files {
		if f.Rows > 25 || f.Rows < 1 || (i > 0 && f.Day.Before(files[i-1].Day)) || f.MaxTime.After(run.Cutoff) {
			t.Fatalf("file %d: %+v", i, f)
		}
	}
	// A second run finds nothing new.
	again := w.runNow(t)
	if again.Error != "" || again.Files != 0 {
		t.Fatalf("second run: %+v", again)
	}
}

func TestArchiverCrashBetweenWriteAndCommitLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	w := newArchiveWorld(t, ArchiverConfig{Every: -1, Chunk: 1000})
	ctx := context.Background()
	w.ledger.crash.Store(true)
	run := w.runNow(t)
	if run.Error == "" || run.Files != 0 {
		t.Fatalf("the crashed run reports %+v", run)
	}
	stored, err := w.archive.List(ctx)
	if err != nil || len(stored) != 1 {
		t.Fatalf("storage after the crash: %+v, %v; want the one orphan", stored, err)
	}
	if hot, archived := w.checkExactlyOnce(t); archived != 0 || hot != len(w.events) {
		t.Fatalf("after the crash: hot %d, archived %d", hot, archived)
	}
	// The training loader ignores the orphan too.
	ds, err := training.Load(ctx, w.hot.Scan, training.ArchiveScanner(w.hot, w.archive))
	if err != nil || ds.Events != len(w.events) {
		t.Fatalf("loader after the crash: %v events, %v; want %d", ds, err, len(w.events))
	}

	// The process restarts; the rerun archives the rows again, and, an
	// hour later, cleanup removes the orphan.
	w.ledger.crash.Store(false)
	rerun := w.runNow(t)
	if rerun.Error != "" || rerun.Orphans != 0 || rerun.Files == 0 {
		t.Fatalf("rerun: %+v (the orphan is too young to go yet)", rerun)
	}
	_, archived := w.checkExactlyOnce(t)
	ds, err = training.Load(ctx, w.hot.Scan, training.ArchiveScanner(w.hot, w.archive))
	if err != nil || ds.Events != len(w.events) {
		t.Fatalf("loader after the rerun: %v, %v; want %d events", ds, err, len(w.events))
	}
	w.clock.Advance(2 * time.Hour)
	later := w.runNow(t)
	if later.Error != "" || later.Orphans != 1 {
		t.Fatalf("run an hour later: %+v, want the orphan removed", later)
	}
	stored, err = w.archive.List(ctx)
	if err != nil || len(stored) != rerun.Files+later.Files {
		t.Fatalf("storage: %d files, want the %d committed ones", len(stored), rerun.Files+later.Files)
	}
	if _, after := w.checkExactlyOnce(t); after < archived {
		t.Fatalf("archived rows went from %d to %d", archived, after)
	}
}

func TestArchiverRetriesWhileStorageIsDownAndKeepsRowsHot(t *testing.T) {
	t.Parallel()
	w := newArchiveWorld(t, ArchiverConfig{Every: time.Hour, Chunk: 50, RetryAfter: 100 * time.Millisecond})
	w.archive.down.Store(true)
	failed := w.runNow(t)
	if failed.Error == "" || failed.Files != 0 {
		t.Fatalf("run with storage down: %+v", failed)
	}
	st := w.ask(t, &ArchiveStatusRequest{}).(*ArchiveStatus)
	if st.Failures != 1 || st.NextAt.IsZero() || st.NextAt.After(w.clock.Now().Add(time.Minute)) {
		t.Fatalf("status after a failure: %+v; want a retry soon", st)
	}
	if hot, _ := w.checkExactlyOnce(t); hot != len(w.events) {
		t.Fatalf("%d of %d rows left the hot table while storage was down", len(w.events)-hot, len(w.events))
	}
	// Storage comes back: the retry (not the hourly schedule) moves them.
	w.archive.down.Store(false)
	ok := w.waitRun(t, func(r ArchiveRun) bool { return r.ID != failed.ID && !r.Running && r.Error == "" })
	if ok.Reason != "schedule" || ok.Files == 0 {
		t.Fatalf("retry: %+v", ok)
	}
	w.checkExactlyOnce(t)
	st = w.ask(t, &ArchiveStatusRequest{}).(*ArchiveStatus)
	if st.Failures != 0 || len(st.Recent) == 0 || st.Recent[0].ID != failed.ID {
		t.Fatalf("status after the retry: %+v", st)
	}
}

func TestArchiverRunsOnItsSchedule(t *testing.T) {
	t.Parallel()
	w := newArchiveWorld(t, ArchiverConfig{Every: 50 * time.Millisecond})
	run := w.waitRun(t, func(r ArchiveRun) bool { return !r.Running && r.Files > 0 })
	if run.Reason != "schedule" || run.Error != "" {
		t.Fatalf("scheduled run: %+v", run)
	}
	w.checkExactlyOnce(t)
}

func TestArchiverRunsOneAtATime(t *testing.T) {
	t.Parallel()
	w := newArchiveWorld(t, ArchiverConfig{Every: -1})
	gate := make(chan struct{})
	w.archive.mu.Lock()
	w.archive.gate = gate
	w.archive.mu.Unlock()
	first := w.ask(t, &ArchiveRequest{Reason: "a"}).(*ArchiveReply)
	second := w.ask(t, &ArchiveRequest{Reason: "b"}).(*ArchiveReply)
	if !first.Started || second.Started || second.Run.ID != first.Run.ID || !second.Run.Running {
		t.Fatalf("first %+v, second %+v; want the second to get the running first", first, second)
	}
	close(gate)
	done := w.waitRun(t, func(r ArchiveRun) bool { return r.ID == first.Run.ID && !r.Running })
	if done.Error != "" || done.Files == 0 {
		t.Fatalf("run: %+v", done)
	}
}
