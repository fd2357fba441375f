package porttest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// The deletions each port promises (the right to be forgotten), run by
// the port's own suite.

func interactionLogErasure(t *testing.T, newLog func(t *testing.T) ports.InteractionLog) {
	t.Run("delete a user and one event", func(t *testing.T) {
		l, p := newLog(t), uniq(t, "del")
		gone, kept := domain.UserID(p+"-gone"), domain.UserID(p+"-kept")
		var goneIDs []string
		for i, at := range []time.Time{baseTime, baseTime.Add(time.Minute), baseTime.Add(2 * time.Minute)} {
			ev := interaction(gone, "m1", p+"-g"+string(rune('a'+i)), at)
			goneIDs = append(goneIDs, ev.EventID)
			_, err := l.Append(ctx(t), ev)
			must(t, err)
			_, err = l.Append(ctx(t), interaction(kept, "m1", p+"-k"+string(rune('a'+i)), at))
			must(t, err)
		}
		// One event: only as its user's.
		ok, err := l.DeleteEvent(ctx(t), kept, goneIDs[0])
		must(t, err)
		if ok {
			t.Fatal("deleted another user's event")
		}
		ok, err = l.DeleteEvent(ctx(t), kept, p+"-kb")
		must(t, err)
		if !ok {
			t.Fatal("DeleteEvent did not find the user's event")
		}
		if ok, _ := l.DeleteEvent(ctx(t), kept, p+"-kb"); ok {
			t.Fatal("deleted an event twice")
		}
		h, err := l.UserHistory(ctx(t), kept)
		must(t, err)
		if len(h) != 2 || h[0].EventID != p+"-ka" || h[1].EventID != p+"-kc" {
			t.Fatalf("history after deleting one event: %v", h)
		}
		// The user: every event, and only theirs.
		ids, err := l.DeleteUser(ctx(t), gone)
		must(t, err)
		slices.Sort(ids)
		if !slices.Equal(ids, goneIDs) {
			t.Fatalf("DeleteUser returned %v, want %v", ids, goneIDs)
		}
		if h, _ := l.UserHistory(ctx(t), gone); len(h) != 0 {
			t.Fatalf("history of a deleted user: %v", h)
		}
		if h, _ := l.UserHistory(ctx(t), kept); len(h) != 2 {
			t.Fatalf("another user's history: %v", h)
		}
		if again, err := l.DeleteUser(ctx(t), gone); err != nil || len(again) != 0 {
			t.Fatalf("deleting again: %v, %v", again, err)
		}
		// An id that was deleted can be stored again.
		if ins, err := l.Append(ctx(t), interaction(gone, "m2", goneIDs[0], baseTime)); err != nil || !ins {
			t.Fatalf("append after delete: %v, %v", ins, err)
		}
	})
}

func profileStoreErasure(t *testing.T, newStore func(t *testing.T) ports.ProfileStore) {
	t.Run("delete", func(t *testing.T) {
		s, u := newStore(t), domain.UserID(uniq(t, "u"))
		must(t, s.Delete(ctx(t), u)) // nothing there: not an error
		must(t, s.Put(ctx(t), domain.Profile{UserID: u, InteractionCount: 3, LastEventAt: baseTime, UpdatedAt: baseTime}))
		must(t, s.Delete(ctx(t), u))
		if _, err := s.Get(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a deleted profile: %v, want ErrNotFound", err)
		}
	})
}

func batchStoreErasure(t *testing.T, newStore func(t *testing.T) ports.BatchStore) {
	t.Run("delete", func(t *testing.T) {
		s, u, other := newStore(t), domain.UserID(uniq(t, "u")), domain.UserID(uniq(t, "o"))
		must(t, s.Delete(ctx(t), u))
		must(t, s.PutAll(ctx(t), "v1", []ports.BatchList{{UserID: u, List: list(domain.TierBatch, "a")}, {UserID: other, List: list(domain.TierBatch, "b")}}))
		must(t, s.Delete(ctx(t), u))
		if _, err := s.Get(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a deleted list: %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx(t), other); err != nil {
			t.Fatalf("another user's list: %v", err)
		}
	})
}

func cacheErasure(t *testing.T, newCache func(t *testing.T) ports.RecommendationCache) {
	t.Run("forget drops the list and the generation", func(t *testing.T) {
		c, u := newCache(t), domain.UserID(uniq(t, "u"))
		must(t, c.Forget(ctx(t), u)) // nothing there
		_, gen, _ := c.Get(ctx(t), u)
		must(t, c.Put(ctx(t), u, gen, list(domain.TierVector, "a"), time.Minute))
		must(t, c.Forget(ctx(t), u))
		if _, _, err := c.Get(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a forgotten list: %v, want ErrNotFound", err)
		}
		// A put under the generation read before the forget stores nothing.
		must(t, c.Put(ctx(t), u, gen, list(domain.TierVector, "stale"), time.Minute))
		if _, _, err := c.Get(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a put under a forgotten generation was stored: %v", err)
		}
		_, fresh, _ := c.Get(ctx(t), u)
		if fresh == gen {
			t.Fatalf("the generation after forget is the old one (%d)", gen)
		}
		must(t, c.Put(ctx(t), u, fresh, list(domain.TierVector, "new"), time.Minute))
		got, _, err := c.Get(ctx(t), u)
		must(t, err)
		assertList(t, got, list(domain.TierVector, "new"))
	})
}

func analyticsErasure(t *testing.T, newSink func(t *testing.T) ports.AnalyticsSink, count func(t *testing.T, s ports.AnalyticsSink, recLogID string) int) {
	t.Run("forget a user and events", func(t *testing.T) {
		s, p := newSink(t), uniq(t, "f")
		gone, kept := domain.UserID(p+"-gone"), domain.UserID(p+"-kept")
		served := func(id string, u domain.UserID) {
			must(t, s.LogServed(ctx(t), domain.Served{RecLogID: id, UserID: u, List: list(domain.TierVector, "a"), ServedBy: domain.TierVector, ServedAt: baseTime}))
			must(t, s.RecordFeedback(ctx(t), domain.Feedback{RecLogID: id, EventID: id + "-e", UserID: u, MovieID: "a", Type: domain.EventClick, Time: baseTime, Position: 1}))
			must(t, s.RecordFreshness(ctx(t), domain.FreshnessSample{At: baseTime, EventID: id + "-e", Delay: time.Millisecond}))
		}
		served(p+"-rl-gone", gone)
		served(p+"-rl-kept", kept)
		served(p+"-rl-kept2", kept)
		must(t, s.ForgetUser(ctx(t), gone, []string{p + "-rl-gone-e"}))
		if _, err := s.ServedList(ctx(t), p+"-rl-gone"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a forgotten user's served list: %v, want ErrNotFound", err)
		}
		if _, err := s.ServedList(ctx(t), p+"-rl-kept"); err != nil {
			t.Fatalf("another user's served list: %v", err)
		}
		must(t, s.ForgetEvents(ctx(t), []string{p + "-rl-kept2-e"}))
		if count != nil {
			if n := count(t, s, p+"-rl-gone"); n != 0 {
				t.Fatalf("feedback of a forgotten user: %d", n)
			}
			if n := count(t, s, p+"-rl-kept2"); n != 0 {
				t.Fatalf("feedback of a forgotten event: %d", n)
			}
			if n := count(t, s, p+"-rl-kept"); n != 1 {
				t.Fatalf("feedback of another event: %d", n)
			}
		}
		// Forgotten feedback can be recorded again.
		must(t, s.RecordFeedback(ctx(t), domain.Feedback{RecLogID: p + "-rl-kept2", EventID: p + "-rl-kept2-e", UserID: kept, MovieID: "a", Type: domain.EventClick, Time: baseTime, Position: 1}))
		if count != nil {
			if n := count(t, s, p+"-rl-kept2"); n != 1 {
				t.Fatalf("feedback recorded again after forgetting it: %d", n)
			}
		}
	})
}

func ledgerErasure(t *testing.T, newTable func(t *testing.T) HotTable) {
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	t.Run("replace swaps a file for its rewrite and retires it", func(t *testing.T) {
		h, p := newTable(t), uniq(t, "rw")
		gone, kept := domain.UserID(p+"-gone"), domain.UserID(p+"-kept")
		var evs []domain.Interaction
		for i, u := range []domain.UserID{gone, kept, gone, kept} {
			ev := interaction(u, domain.MovieID([]string{"m1", "m1", "m2", "m2"}[i]), p+"-"+string(rune('a'+i)), day.Add(time.Duration(i+1)*time.Hour))
			_, err := h.Append(ctx(t), ev)
			must(t, err)
			evs = append(evs, ev)
		}
		old := ports.ArchiveFile{Key: p + "-old", Day: day, Rows: 4, Bytes: 100, MinTime: evs[0].Time, MaxTime: evs[3].Time, CreatedAt: baseTime}
		must(t, h.Commit(ctx(t), old, []string{evs[0].EventID, evs[1].EventID, evs[2].EventID, evs[3].EventID}))
		// Without gone's m2 event: their m1 total stays, m2 goes.
		rewrite := ports.ArchiveFile{Key: p + "-new", Day: day, Rows: 3, Bytes: 80, MinTime: evs[0].Time, MaxTime: evs[3].Time, CreatedAt: baseTime.Add(time.Second)}
		must(t, h.Replace(ctx(t), old.Key, rewrite, []domain.Interaction{evs[2]}))
		files, err := h.Files(ctx(t))
		must(t, err)
		if len(files) != 1 || files[0].Key != rewrite.Key || files[0].Rows != 3 {
			t.Fatalf("manifest after replace: %+v", files)
		}
		retired, err := h.Retired(ctx(t))
		must(t, err)
		if !slices.Equal(retired, []string{old.Key}) {
			t.Fatalf("retired = %v, want the old file", retired)
		}
		tot, err := h.ArchivedTotals(ctx(t), gone)
		must(t, err)
		if len(tot) != 1 || tot[0].MovieID != "m1" || tot[0].Events != 1 {
			t.Fatalf("gone's totals after the rewrite: %+v", tot)
		}
		if err := h.Replace(ctx(t), old.Key, rewrite, nil); !errors.Is(err, ports.ErrConflict) {
			t.Fatalf("replacing a file no longer in the manifest: %v, want ErrConflict", err)
		}
		must(t, h.Purged(ctx(t), old.Key))
		if retired, _ := h.Retired(ctx(t)); len(retired) != 0 {
			t.Fatalf("retired after purging: %v", retired)
		}
		// A rewrite with no row left takes the file out of the manifest.
		must(t, h.Replace(ctx(t), rewrite.Key, ports.ArchiveFile{}, nil))
		if files, _ := h.Files(ctx(t)); len(files) != 0 {
			t.Fatalf("manifest after an empty rewrite: %+v", files)
		}
		must(t, h.ForgetTotals(ctx(t), kept))
		if tot, _ := h.ArchivedTotals(ctx(t), kept); len(tot) != 0 {
			t.Fatalf("totals after ForgetTotals: %+v", tot)
		}
		if tot, _ := h.ArchivedTotals(ctx(t), gone); len(tot) != 1 {
			t.Fatalf("another user's totals after ForgetTotals: %+v", tot)
		}
	})
}

// Tombstones is the contract of ports.Tombstones.
func Tombstones(t *testing.T, newStore func(t *testing.T) ports.Tombstones) {
	t.Run("bury, done, prune", func(t *testing.T) {
		s, u := newStore(t), domain.UserID(uniq(t, "u"))
		if _, err := s.Buried(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a user never buried: %v, want ErrNotFound", err)
		}
		at, err := s.Bury(ctx(t), u, baseTime)
		must(t, err)
		if !at.Equal(baseTime) {
			t.Fatalf("Bury kept %v, want %v", at, baseTime)
		}
		// An earlier instant keeps the later one; a later one moves it on.
		if at, _ := s.Bury(ctx(t), u, baseTime.Add(-time.Hour)); !at.Equal(baseTime) {
			t.Fatalf("an earlier burial moved the tombstone to %v", at)
		}
		later := baseTime.Add(time.Hour)
		if at, _ := s.Bury(ctx(t), u, later); !at.Equal(later) {
			t.Fatalf("a later burial kept %v", at)
		}
		got, err := s.Buried(ctx(t), u)
		must(t, err)
		if !got.Equal(later) {
			t.Fatalf("Buried = %v, want %v", got, later)
		}
		all, err := s.All(ctx(t))
		must(t, err)
		if at, ok := all.Of(u); !ok || !at.Equal(later) {
			t.Fatalf("All().Of(%s) = %v, %v", u, at, ok)
		}
		if _, ok := all[string(u)]; ok {
			t.Fatal("a tombstone is keyed by the user id, not its digest")
		}
		// Not done: never pruned.
		if n, _ := s.Prune(ctx(t), later.Add(48*time.Hour)); n != 0 {
			t.Fatalf("pruned %d tombstones not done", n)
		}
		must(t, s.Done(ctx(t), u, baseTime)) // an older burial's: not this one
		if n, _ := s.Prune(ctx(t), later.Add(48*time.Hour)); n != 0 {
			t.Fatal("the done of an older burial marked the newer one done")
		}
		must(t, s.Done(ctx(t), u, later))
		if n, _ := s.Prune(ctx(t), later); n != 0 {
			t.Fatal("pruned a tombstone not older than the cutoff")
		}
		n, err := s.Prune(ctx(t), later.Add(time.Second))
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d, want 1", n)
		}
		if _, err := s.Buried(ctx(t), u); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a pruned tombstone: %v", err)
		}
	})
}
