package training

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// TestDeletedUsersNeverComeBackInATraining: a user deleted before the
// run is not loaded (their events ingested before the deletion are
// skipped, later ones count), and one deleted while it ran is not
// published, or is scrubbed if the deletion came after the writes.
func TestDeletedUsersNeverComeBackInATraining(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, 300)
	graves := memory.NewTombstones()
	w.p.Tombstones = graves
	hist, err := w.log.UserHistory(ctx, "user_0")
	if err != nil || len(hist) == 0 {
		t.Fatalf("user_0: %v %v", hist, err)
	}
	// user_0 was deleted after their events; one event came after.
	last := hist[len(hist)-1].IngestedAt
	if _, err := graves.Bury(ctx, "user_0", last); err != nil {
		t.Fatal(err)
	}
	again := hist[0]
	again.EventID, again.IngestedAt = "after-the-deletion", last.Add(time.Second)
	if _, err := w.log.Append(ctx, again); err != nil {
		t.Fatal(err)
	}

	plan, err := w.p.Prepare(ctx, Options{}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	u0 := slices.Index(plan.Data.Users, "user_0")
	if u0 < 0 || plan.Data.UserEvents[u0] != 1 {
		t.Fatalf("user_0 loaded with %v events, want only the one after the deletion", plan.Data.UserEvents[max(u0, 0)])
	}
	// user_1 is deleted while the run trains.
	if _, err := graves.Bury(ctx, "user_1", time.Now()); err != nil {
		t.Fatal(err)
	}
	var holdout, full Fitted
	var err2 error
	holdout.Users, holdout.Items, err = als.Train(ctx, plan.Fit, plan.Params, nil)
	full.Users, full.Items, err2 = als.Train(ctx, plan.Full, plan.Params, nil)
	if err := errors.Join(err, err2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.Finish(ctx, plan, holdout, full, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.batch.Get(ctx, "user_1"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("a user deleted while training ran got a batch list: %v", err)
	}
	if _, err := w.prof.Get(ctx, "user_1"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("a user deleted while training ran got a profile: %v", err)
	}
	for _, u := range []domain.UserID{"user_0", "user_2"} {
		if _, err := w.batch.Get(ctx, u); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	// A deletion that buries its user between the writes and the read
	// after them is scrubbed by that read.
	if _, err := graves.Bury(ctx, "user_2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.p.scrubBuried(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := w.batch.Get(ctx, "user_2"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("not scrubbed: %v", err)
	}
}
