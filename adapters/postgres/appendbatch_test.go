package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// batchLog is the log with AppendBatch, which the user actors use when the
// log has it (the in-memory log has no round trips to save).
type batchLog interface {
	Append(ctx context.Context, ev domain.Interaction) (bool, error)
	AppendBatch(ctx context.Context, evs []domain.Interaction) ([]bool, error)
	UserHistory(ctx context.Context, user domain.UserID) ([]domain.Interaction, error)
}

// TestAppendBatch checks that one batch stores what the same events
// appended one by one would: in order, each id once, values and
// rec_log_ids kept, and that it says which events were new.
func TestAppendBatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		log  func(t *testing.T) batchLog
	}{
		{"postgres", func(t *testing.T) batchLog { return openTestDB(t).Interactions() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l, ctx := c.log(t), testCtx(t)
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			rating := 4.5
			ev := func(id, movie string, i int) domain.Interaction {
				return domain.Interaction{EventID: id, UserID: "u", MovieID: domain.MovieID(movie), Type: domain.EventClick, Weight: 2,
					Time: at.Add(time.Duration(i) * time.Second), IngestedAt: at.Add(time.Hour)}
			}
			first := ev("e0", "m0", 0)
			if _, err := l.Append(ctx, first); err != nil {
				t.Fatal(err)
			}
			batch := []domain.Interaction{
				ev("e1", "m1", 1),
				first,             // already stored
				ev("e2", "m2", 2), // with a value and a rec_log_id
				ev("e1", "m1", 1), // repeated within the batch
				ev("e3", "m3", 3),
			}
			batch[2].Type, batch[2].Value, batch[2].Weight, batch[2].RecLogID = domain.EventRating, &rating, 4.5, "rec-1"
			got, err := l.AppendBatch(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			want := []bool{true, false, true, false, true}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("inserted = %v, want %v", got, want)
				}
			}
			h, err := l.UserHistory(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			ids := ""
			for _, e := range h {
				ids += e.EventID + " "
			}
			if ids != "e0 e1 e2 e3 " {
				t.Fatalf("history %q, want e0 e1 e2 e3", ids)
			}
			if r := h[2]; r.Value == nil || *r.Value != rating || r.RecLogID != "rec-1" || r.Weight != 4.5 || !r.Time.Equal(batch[2].Time) || !r.IngestedAt.Equal(batch[2].IngestedAt) {
				t.Fatalf("rated event stored as %+v", r)
			}
			if again, err := l.AppendBatch(ctx, batch[:2]); err != nil || again[0] || again[1] {
				t.Fatalf("re-appending: %v, %v; want nothing new", again, err)
			}
		})
	}
}

// TestConcurrentWritesGroupCommitted: appends and profile puts from many
// goroutines at once, merged into shared statements by the group commit,
// store exactly what they would one by one: each event id is reported new
// to exactly one caller, and every profile reads back as put.
func TestConcurrentWritesGroupCommitted(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	ctx := testCtx(t)
	log, profiles := db.Interactions(), db.Profiles()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const workers, perWorker = 32, 40
	var newCount atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			user := domain.UserID(fmt.Sprint("u", w))
			for i := range perWorker {
				// Worker w shares its odd events with worker w^1: two
				// callers, possibly in one statement, for one id.
				owner := w
				if i%2 == 1 {
					owner = w &^ 1
				}
				ev := domain.Interaction{EventID: fmt.Sprintf("e-%d-%d", owner, i), UserID: user, MovieID: domain.MovieID(fmt.Sprint("m", i)),
					Type: domain.EventClick, Weight: 2, Time: at.Add(time.Duration(i) * time.Second), IngestedAt: at}
				var ins []bool
				var err error
				if i%3 == 0 {
					ins, err = log.AppendBatch(ctx, []domain.Interaction{ev, ev})
				} else {
					var one bool
					one, err = log.Append(ctx, ev)
					ins = []bool{one}
				}
				if err != nil {
					t.Error(err)
					return
				}
				for _, b := range ins {
					if b {
						newCount.Add(1)
					}
				}
			}
			p := domain.Profile{UserID: user, ModelVersion: "v1", InteractionCount: w, LastEventAt: at, UpdatedAt: at}
			if w%2 == 0 {
				p.Vector = []float32{float32(w), 1}
			}
			if err := profiles.Put(ctx, p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Even events are each worker's own; odd ones are shared by a pair.
	if want := int64(workers*perWorker/2 + workers/2*perWorker/2); newCount.Load() != want {
		t.Fatalf("%d appends reported new, want %d (one per distinct event id)", newCount.Load(), want)
	}
	for w := range workers {
		p, err := profiles.Get(ctx, domain.UserID(fmt.Sprint("u", w)))
		if err != nil {
			t.Fatal(err)
		}
		if p.InteractionCount != w || (w%2 == 0) != (p.Vector != nil) || (p.Vector != nil && p.Vector[0] != float32(w)) {
			t.Fatalf("profile u%d = %+v", w, p)
		}
	}
}
