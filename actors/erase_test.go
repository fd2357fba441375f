package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/training"
)

// crashingLedger "dies" in Replace while crash is set: the rewrite is
// written and verified, the manifest still names the old file.
type crashingLedger struct {
	ports.ArchiveLedger
	crash atomic.Bool
}

func (l *crashingLedger) Replace(ctx context.Context, old string, rewrite ports.ArchiveFile, removed []domain.Interaction) error {
	if l.crash.Load() {
		return fmt.Errorf("process killed before replacing %s by %s", old, rewrite.Key)
	}
	return l.ArchiveLedger.Replace(ctx, old, rewrite, removed)
}

// crashingArchive "dies" in Delete while crash is set: the manifest names
// the rewrite, the old object is still in storage.
type crashingArchive struct {
	ports.Archive
	crash atomic.Bool
}

func (a *crashingArchive) Delete(ctx context.Context, key string) error {
	if a.crash.Load() {
		return fmt.Errorf("process killed before deleting %s", key)
	}
	return a.Archive.Delete(ctx, key)
}

// eraseWorld is a running system over in-memory stores and a Parquet
// archive in a directory, with two users who each have events archived in
// two days' files, hot events, a profile, a batch list and a cached list.
type eraseWorld struct {
	*fixture
	ledger     *crashingLedger
	archive    *crashingArchive
	tombstones *memory.Tombstones
	events     map[domain.UserID][]domain.Interaction
	served     map[domain.UserID]string // a rec_log_id served to each
}

var (
	eraseDay1 = time.Date(2026, 4, 28, 9, 0, 0, 0, time.UTC)
	eraseDay2 = eraseDay1.Add(24 * time.Hour)
)

func newEraseWorld(t *testing.T) *eraseWorld {
	t.Helper()
	store, err := localfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &eraseWorld{archive: &crashingArchive{Archive: parquet.New(store)}, tombstones: memory.NewTombstones(),
		events: map[domain.UserID][]domain.Interaction{}, served: map[domain.UserID]string{}}
	w.fixture = newFixture(t, Config{}, func(d *Deps) {
		w.ledger = &crashingLedger{ArchiveLedger: d.Log.(*memory.InteractionLog)}
		d.Archive, d.Ledger, d.Tombstones = w.archive, w.ledger, w.tombstones
	})
	w.publishModel(t, "v1")
	ctx := testCtx(t)
	for _, u := range []domain.UserID{"gone", "kept"} {
		var evs []domain.Interaction
		for i, at := range []time.Time{eraseDay1, eraseDay1.Add(time.Hour), eraseDay2, eraseDay2.Add(time.Hour), t0, t0.Add(time.Minute)} {
			ev := event(u, domain.MovieID(fmt.Sprint("a", i)), domain.EventLike)
			ev.Time, ev.IngestedAt = at, at.Add(time.Second)
			evs = append(evs, ev)
		}
		if err := w.sys.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
		w.events[u] = evs
		if err := w.batch.PutAll(ctx, "v1", []ports.BatchList{{UserID: u, List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "b9"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Archive the two days (everything before t0).
	run := RunArchive(ctx, ArchiverDeps{Ledger: w.ledger, Archive: w.archive, Now: func() time.Time { return t0 }},
		ArchiverConfig{Every: -1, Chunk: 1000, OrphanAge: -1}, ArchiveRun{ID: "setup", Cutoff: eraseDay2.Add(2 * time.Hour)}, nil)
	if run.Error != "" || run.Files != 2 || run.Rows != 8 {
		t.Fatalf("archiving the two days: %+v", run)
	}
	for _, u := range []domain.UserID{"gone", "kept"} {
		s, err := w.sys.Recommend(ctx, u, 3)
		if err != nil || s.ServedBy != domain.TierVector {
			t.Fatalf("first list of %s: %s %v", u, s.ServedBy, err)
		}
		w.served[u] = s.RecLogID
	}
	waitFor(t, "the served lists logged", func() bool {
		_, e1 := w.analytics.ServedList(ctx, w.served["gone"])
		_, e2 := w.analytics.ServedList(ctx, w.served["kept"])
		return e1 == nil && e2 == nil
	})
	return w
}

// archivedRows counts, by event id, the rows of the files the manifest
// lists, and of every object in storage.
func (w *eraseWorld) archivedRows(t *testing.T) (manifest, stored map[string]int) {
	t.Helper()
	ctx := testCtx(t)
	count := func(files []ports.ArchiveFile) map[string]int {
		out := map[string]int{}
		if err := w.archive.Scan(ctx, files, ports.FieldEventID, func(ev domain.Interaction) error {
			out[ev.EventID]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	files, err := w.ledger.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := w.archive.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return count(files), count(all)
}

// checkKeptOnce fails unless each of kept's archived events is in the
// manifest once, and training loads each of kept's events once and none
// of gone's.
func (w *eraseWorld) checkKeptOnce(t *testing.T) {
	t.Helper()
	manifest, _ := w.archivedRows(t)
	for _, ev := range w.events["kept"][:4] {
		if manifest[ev.EventID] != 1 {
			t.Fatalf("kept's archived event %s is %d times in the manifest's files", ev.EventID, manifest[ev.EventID])
		}
	}
	if n := w.trainingEvents(t); n["gone"] != 0 || n["kept"] != len(w.events["kept"]) {
		t.Fatalf("training loads %v events, want none of gone and the %d of kept", n, len(w.events["kept"]))
	}
}

// trainingEvents counts by user what the training loader sees, as the
// pipeline loads it: hot table, then the manifest's files, without the
// events of deleted users ingested before their deletion.
func (w *eraseWorld) trainingEvents(t *testing.T) map[domain.UserID]int {
	t.Helper()
	ctx := testCtx(t)
	buried, err := w.tombstones.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[domain.UserID]int{}
	for _, src := range []training.Scanner{w.log.Scan, training.ArchiveScanner(w.ledger, w.archive)} {
		if err := training.WithoutBuried(src, buried)(ctx, func(ev domain.Interaction) error {
			out[ev.UserID]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkGone fails unless no store holds anything of gone.
func (w *eraseWorld) checkGone(t *testing.T) {
	t.Helper()
	ctx := testCtx(t)
	if h, _ := w.log.UserHistory(ctx, "gone"); len(h) != 0 {
		t.Fatalf("hot rows left: %v", h)
	}
	if tot, _ := w.ledger.ArchivedTotals(ctx, "gone"); len(tot) != 0 {
		t.Fatalf("archived totals left: %v", tot)
	}
	if _, err := w.deps.Profiles.Get(ctx, "gone"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("profile left: %v", err)
	}
	if _, err := w.batch.Get(ctx, "gone"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("batch list left: %v", err)
	}
	if _, _, err := w.deps.Cache.Get(ctx, "gone"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("cached list left: %v", err)
	}
	if _, err := w.analytics.ServedList(ctx, w.served["gone"]); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("served list left: %v", err)
	}
	if w.sys.env.trust.trusted("gone") {
		t.Fatal("the near copy of gone is still trusted")
	}
	_, stored := w.archivedRows(t)
	for _, ev := range w.events["gone"] {
		if stored[ev.EventID] != 0 {
			t.Fatalf("an archive object still holds gone's event %s", ev.EventID)
		}
	}
	if retired, _ := w.ledger.Retired(ctx); len(retired) != 0 {
		t.Fatalf("retired files left: %v", retired)
	}
}

func TestDeleteUserForgetsEverything(t *testing.T) {
	t.Parallel()
	w := newEraseWorld(t)
	ctx := testCtx(t)
	// What is still in the event stream at the deletion: ingested before it.
	late := event("gone", "b1", domain.EventLike)
	late.Time, late.IngestedAt = t0.Add(2*time.Minute), time.Now()

	rep, err := w.sys.DeleteUser(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if rep.HotEvents != 2 || rep.ArchivedEvents != 4 || rep.FilesRewritten != 2 || rep.DeletedAt.IsZero() {
		t.Fatalf("report %+v", rep)
	}
	w.checkGone(t)
	w.checkKeptOnce(t)
	if _, err := w.analytics.ServedList(ctx, w.served["kept"]); err != nil {
		t.Fatalf("kept's served list: %v", err)
	}
	if s, err := w.sys.Recommend(ctx, "kept", 3); err != nil || s.ServedBy != domain.TierCache {
		t.Fatalf("kept's cached list: %s %v", s.ServedBy, err)
	}

	// The event from before the deletion is dropped when it arrives; a new
	// one is the user's new activity.
	if err := w.sys.Apply(ctx, []domain.Interaction{late}); err != nil {
		t.Fatal(err)
	}
	if h, _ := w.log.UserHistory(ctx, "gone"); len(h) != 0 {
		t.Fatalf("an event ingested before the deletion was stored: %v", h)
	}
	fresh := event("gone", "b2", domain.EventLike)
	fresh.IngestedAt = rep.DeletedAt.Add(time.Second)
	if err := w.sys.Apply(ctx, []domain.Interaction{fresh}); err != nil {
		t.Fatal(err)
	}
	if h, _ := w.log.UserHistory(ctx, "gone"); len(h) != 1 || h[0].EventID != fresh.EventID {
		t.Fatalf("new activity after the deletion: %v", h)
	}
	// A second deletion is idempotent and takes the new activity too.
	again, err := w.sys.DeleteUser(ctx, "gone")
	if err != nil || again.HotEvents != 1 || again.ArchivedEvents != 0 {
		t.Fatalf("deleting again: %+v %v", again, err)
	}
	w.checkGone(t)
}

// TestDeleteUserSurvivesACrashMidRewrite kills the deletion between
// writing a rewritten file and swapping it in, and between swapping it in
// and deleting the old file: each time the manifest and training count
// every other user's rows once, and calling the deletion again completes
// it.
func TestDeleteUserSurvivesACrashMidRewrite(t *testing.T) {
	t.Parallel()
	for _, crash := range []string{"before the swap", "before deleting the old file"} {
		t.Run(crash, func(t *testing.T) {
			t.Parallel()
			w := newEraseWorld(t)
			ctx := testCtx(t)
			before, _ := w.archive.List(ctx)
			if crash == "before the swap" {
				w.ledger.crash.Store(true)
			} else {
				w.archive.crash.Store(true)
			}
			if _, err := w.sys.DeleteUser(ctx, "gone"); err == nil {
				t.Fatal("the crashed deletion succeeded")
			}
			w.checkKeptOnce(t)
			stored, _ := w.archive.List(ctx)
			if len(stored) != len(before)+1 {
				t.Fatalf("%d objects after the crash, want the %d files and the rewrite", len(stored), len(before))
			}
			retired, _ := w.ledger.Retired(ctx)
			files, _ := w.ledger.Files(ctx)
			switch crash {
			case "before the swap": // the rewrite is an orphan
				if len(retired) != 0 || !sameKeys(files, before) {
					t.Fatalf("manifest %v, retired %v: want the old files, none retired", keysOf(files), retired)
				}
			default: // the old file is retired, not yet deleted
				if len(retired) != 1 || sameKeys(files, before) {
					t.Fatalf("manifest %v, retired %v: want the rewrite in, the old file retired", keysOf(files), retired)
				}
			}
			w.ledger.crash.Store(false)
			w.archive.crash.Store(false)
			if _, err := w.sys.DeleteUser(ctx, "gone"); err != nil {
				t.Fatal(err)
			}
			w.checkKeptOnce(t)
			_, storedRows := w.archivedRows(t)
			for _, ev := range w.events["gone"] {
				if storedRows[ev.EventID] != 0 {
					t.Fatalf("an archive object still holds gone's event %s", ev.EventID)
				}
			}
			if retired, _ := w.ledger.Retired(ctx); len(retired) != 0 {
				t.Fatalf("retired files left: %v", retired)
			}
		})
	}
}

func TestDeleteEventRecomputesTheUser(t *testing.T) {
	t.Parallel()
	w := newEraseWorld(t)
	ctx := testCtx(t)
	before, err := w.deps.Profiles.Get(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	hot, archived := w.events["kept"][5], w.events["kept"][0]
	for _, ev := range []domain.Interaction{hot, archived} {
		found, err := w.sys.DeleteEvent(ctx, "kept", ev.EventID)
		if err != nil || !found {
			t.Fatalf("delete %s: %v %v", ev.EventID, found, err)
		}
	}
	if found, err := w.sys.DeleteEvent(ctx, "kept", hot.EventID); err != nil || found {
		t.Fatalf("deleting it again: %v %v", found, err)
	}
	if found, _ := w.sys.DeleteEvent(ctx, "gone", w.events["kept"][1].EventID); found {
		t.Fatal("deleted another user's event")
	}
	after, err := w.deps.Profiles.Get(ctx, "kept")
	if err != nil || after.InteractionCount != before.InteractionCount-2 {
		t.Fatalf("profile after deleting two events: %+v (was %d events), %v", after, before.InteractionCount, err)
	}
	manifest, _ := w.archivedRows(t)
	if manifest[archived.EventID] != 0 || manifest[w.events["kept"][1].EventID] != 1 {
		t.Fatalf("archive after deleting %s: %v", archived.EventID, manifest)
	}
	// The movies of the deleted events are no longer seen: the next list
	// may hold them.
	s, err := w.sys.Recommend(ctx, "kept", 20)
	if err != nil || s.ServedBy == domain.TierCache || !slices.Contains(movieIDs(s.List), hot.MovieID) || !slices.Contains(movieIDs(s.List), archived.MovieID) {
		t.Fatalf("after deleting the events of %s and %s: %s %v %v", hot.MovieID, archived.MovieID, s.ServedBy, movieIDs(s.List), err)
	}
}

func keysOf(fs []ports.ArchiveFile) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Key
	}
	slices.Sort(out)
	return out
}

func sameKeys(a, b []ports.ArchiveFile) bool { return slices.Equal(keysOf(a), keysOf(b)) }

// TestDeleteUserDropsWhatWasIngestedInItsMicrosecond deletes a user at an
// instant between two microseconds (the tombstone stores keep no finer):
// an event ingested at that very instant, before the deletion returned,
// is still dropped when it arrives.
func TestDeleteUserDropsWhatWasIngestedInItsMicrosecond(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour + 1500*time.Nanosecond)
	f := newFixture(t, Config{}, func(d *Deps) {
		d.Tombstones, d.Now = memory.NewTombstones(), func() time.Time { return now }
	})
	ctx := testCtx(t)
	rep, err := f.sys.DeleteUser(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if rep.DeletedAt.Before(now) {
		t.Fatalf("deleted at %v, before the call at %v", rep.DeletedAt, now)
	}
	late := event("gone", "b1", domain.EventLike)
	late.IngestedAt = now
	if err := f.sys.Apply(ctx, []domain.Interaction{late}); err != nil {
		t.Fatal(err)
	}
	if h, _ := f.log.UserHistory(ctx, "gone"); len(h) != 0 {
		t.Fatalf("an event ingested in the deletion's microsecond was stored: %v", h)
	}
}
