package porttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// HotTable is an interaction log that is also its archive ledger, as the
// ledger's contract requires (the manifest entry and the delete commit
// together).
type HotTable interface {
	ports.InteractionLog
	ports.ArchiveLedger
}

// ArchiveLedger is the contract of ports.ArchiveLedger. newTable must
// return an empty table of its own: Pending sees the whole table.
func ArchiveLedger(t *testing.T, newTable func(t *testing.T) HotTable) {
	day1 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	// fill appends the events and returns them by name.
	fill := func(t *testing.T, h HotTable, at map[string]time.Time) map[string]domain.Interaction {
		t.Helper()
		p := uniq(t, "e")
		out := map[string]domain.Interaction{}
		for name, ts := range at {
			ev := interaction(domain.UserID("u-"+name[:1]), domain.MovieID("m-"+name), p+"-"+name, ts)
			_, err := h.Append(ctx(t), ev)
			must(t, err)
			out[name] = ev
		}
		return out
	}
	pendingIDs := func(t *testing.T, h HotTable, before time.Time, limit int) []string {
		t.Helper()
		rows, err := h.Pending(ctx(t), before, limit)
		must(t, err)
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.EventID
		}
		return ids
	}
	names := func(evs map[string]domain.Interaction, ns ...string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = evs[n].EventID
		}
		return out
	}
	fileOf := func(key string, day time.Time, rows int) ports.ArchiveFile {
		return ports.ArchiveFile{Key: key, Day: day, Rows: rows, Bytes: 1234, MinTime: day.Add(time.Hour),
			MaxTime: day.Add(2 * time.Hour), CreatedAt: baseTime}
	}

	t.Run("an empty table has nothing pending and no files", func(t *testing.T) {
		h := newTable(t)
		rows, err := h.Pending(ctx(t), baseTime, 10)
		must(t, err)
		files, err := h.Files(ctx(t))
		must(t, err)
		if len(rows) != 0 || len(files) != 0 {
			t.Fatalf("pending %v, files %v; want none", rows, files)
		}
	})
	t.Run("pending is the oldest day only, before the cutoff, by time then id, limited", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{
			"a3": day1.Add(3 * time.Hour), "a1b": day1.Add(time.Hour), "a1a": day1.Add(time.Hour), "a0": day1,
			"a4": day1.Add(24*time.Hour - time.Microsecond), "b1": day2.Add(time.Hour), "b5": day2.Add(5 * time.Hour),
		})
		before := day2.Add(2 * time.Hour)
		got := pendingIDs(t, h, before, 100)
		if want := names(evs, "a0", "a1a", "a1b", "a3", "a4"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending = %v, want %v", got, want)
		}
		if got, want := pendingIDs(t, h, before, 2), names(evs, "a0", "a1a"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending(limit 2) = %v, want %v", got, want)
		}
		if got, want := pendingIDs(t, h, day1.Add(time.Hour), 100), names(evs, "a0"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending(before 01:00) = %v, want %v (the cutoff is exclusive)", got, want)
		}
		if got := pendingIDs(t, h, day1, 100); len(got) != 0 {
			t.Fatalf("pending(before day 1) = %v, want none", got)
		}
		rows, err := h.Pending(ctx(t), before, 1)
		must(t, err)
		assertInteraction(t, rows[0], evs["a0"])
	})
	t.Run("commit records the file and deletes exactly its rows; pending moves on", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{"a1": day1.Add(time.Hour), "a2": day1.Add(2 * time.Hour), "a3": day1.Add(3 * time.Hour),
			"b1": day2.Add(time.Hour)})
		before := day2.Add(48 * time.Hour)
		f1 := fileOf(uniq(t, "k")+"/1", day1, 2)
		must(t, h.Commit(ctx(t), f1, names(evs, "a1", "a2")))
		if got, want := pendingIDs(t, h, before, 100), names(evs, "a3"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending after commit = %v, want %v", got, want)
		}
		hist, err := h.UserHistory(ctx(t), evs["a1"].UserID)
		must(t, err)
		if len(hist) != 1 || hist[0].EventID != evs["a3"].EventID {
			t.Fatalf("history after commit = %v, want only a3", hist)
		}
		f2 := fileOf(uniq(t, "k")+"/2", day1, 1)
		must(t, h.Commit(ctx(t), f2, names(evs, "a3")))
		if got, want := pendingIDs(t, h, before, 100), names(evs, "b1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending after the first day = %v, want %v", got, want)
		}
		files, err := h.Files(ctx(t))
		must(t, err)
		if len(files) != 2 {
			t.Fatalf("files = %+v, want 2", files)
		}
		assertFile(t, files[0], f1)
		assertFile(t, files[1], f2)
	})
	t.Run("archived totals keep what the hot table no longer holds", func(t *testing.T) {
		h := newTable(t)
		p := uniq(t, "tot")
		user := domain.UserID(p + "u")
		mk := func(n int, movie domain.MovieID, w float64, at time.Time) domain.Interaction {
			ev := interaction(user, movie, fmt.Sprintf("%s-%d", p, n), at)
			ev.Weight = w
			_, err := h.Append(ctx(t), ev)
			must(t, err)
			return ev
		}
		e1, e2 := mk(1, "m1", 2, day1.Add(time.Hour)), mk(2, "m1", -4, day1.Add(2*time.Hour))
		e3, e4 := mk(3, "m2", 5, day1.Add(3*time.Hour)), mk(4, "m2", 1, day2.Add(time.Hour))
		f := fileOf(uniq(t, "k"), day1, 3)
		must(t, h.Commit(ctx(t), f, []string{e1.EventID, e2.EventID, e3.EventID}))
		must(t, h.Commit(ctx(t), f, []string{e1.EventID, e2.EventID, e3.EventID})) // a retry adds nothing
		tot, err := h.ArchivedTotals(ctx(t), user)
		must(t, err)
		if len(tot) != 2 || tot[0].MovieID != "m1" || tot[0].Weight != -2 || tot[0].Events != 2 || !tot[0].Last.Equal(e2.Time) ||
			tot[1].MovieID != "m2" || tot[1].Weight != 5 || tot[1].Events != 1 {
			t.Fatalf("archived totals = %+v", tot)
		}
		hist, err := h.UserHistory(ctx(t), user)
		must(t, err)
		if len(hist) != 1 || hist[0].EventID != e4.EventID {
			t.Fatalf("hot history = %v, want only the unarchived event", hist)
		}
		none, err := h.ArchivedTotals(ctx(t), domain.UserID(p+"nobody"))
		if err != nil || len(none) != 0 {
			t.Fatalf("totals of a user with nothing archived = %v, %v", none, err)
		}
	})
	t.Run("commit is idempotent by key", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{"a1": day1.Add(time.Hour), "a2": day1.Add(2 * time.Hour)})
		f := fileOf(uniq(t, "k"), day1, 1)
		must(t, h.Commit(ctx(t), f, names(evs, "a1")))
		must(t, h.Commit(ctx(t), f, names(evs, "a1"))) // a retry after a lost answer
		files, err := h.Files(ctx(t))
		must(t, err)
		if len(files) != 1 || len(pendingIDs(t, h, day2, 10)) != 1 {
			t.Fatalf("after a repeated commit: files %+v, pending %v", files, pendingIDs(t, h, day2, 10))
		}
	})
	t.Run("a commit naming a row that is gone changes nothing", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{"a1": day1.Add(time.Hour), "a2": day1.Add(2 * time.Hour)})
		err := h.Commit(ctx(t), fileOf(uniq(t, "k"), day1, 2), append(names(evs, "a1"), "no-such-event"))
		if !errors.Is(err, ports.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		files, err := h.Files(ctx(t))
		must(t, err)
		if got := pendingIDs(t, h, day2, 10); len(files) != 0 || len(got) != 2 {
			t.Fatalf("after a refused commit: files %+v, pending %v; want none and both rows", files, got)
		}
	})
	t.Run("two archivers committing the same rows: one wins, the other conflicts", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{"a1": day1.Add(time.Hour), "a2": day1.Add(2 * time.Hour), "a3": day1.Add(3 * time.Hour)})
		ids := names(evs, "a1", "a2", "a3")
		p := uniq(t, "k")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = h.Commit(ctx(t), fileOf(fmt.Sprintf("%s/%d", p, i), day1, 3), ids) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ports.ErrConflict):
				t.Fatalf("commit: %v", err)
			}
		}
		files, err := h.Files(ctx(t))
		must(t, err)
		if won != 1 || len(files) != 1 {
			t.Fatalf("%d commits won, %d files in the manifest; want 1 and 1", won, len(files))
		}
	})
	t.Run("files are ordered by day", func(t *testing.T) {
		h := newTable(t)
		evs := fill(t, h, map[string]time.Time{"a1": day1.Add(time.Hour), "b1": day2.Add(time.Hour)})
		p := uniq(t, "k")
		must(t, h.Commit(ctx(t), fileOf(p+"/b", day2, 1), names(evs, "b1")))
		must(t, h.Commit(ctx(t), fileOf(p+"/a", day1, 1), names(evs, "a1")))
		files, err := h.Files(ctx(t))
		must(t, err)
		if len(files) != 2 || !files[0].Day.Equal(day1) || !files[1].Day.Equal(day2) {
			t.Fatalf("files = %+v, want day 1 then day 2", files)
		}
	})
	ledgerErasure(t, newTable)
}

func assertFile(t *testing.T, got, want ports.ArchiveFile) {
	t.Helper()
	if got.Key != want.Key || !got.Day.Equal(want.Day) || got.Rows != want.Rows || got.Bytes != want.Bytes ||
		!got.MinTime.Equal(want.MinTime) || !got.MaxTime.Equal(want.MaxTime) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("file = %+v, want %+v", got, want)
	}
}
