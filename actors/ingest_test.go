package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
)

// flakyLog fails the first attempt to store every fifth event, as a
// database with transient errors might; the consumer must retry the batch
// and no event may be lost or stored twice.
type flakyLog struct {
	*memory.InteractionLog
	n      atomic.Int64
	failed sync.Map
}

func (f *flakyLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	if _, done := f.failed.Load(ev.EventID); !done && f.n.Add(1)%5 == 0 {
		f.failed.Store(ev.EventID, true)
		return false, errors.New("transient failure")
	}
	return f.InteractionLog.Append(ctx, ev)
}

func TestIngestAppliesEveryConsumedEventOnce(t *testing.T) {
	t.Parallel()
	bus := memory.NewEventBus(memory.WithEventBusRetryBackoff(time.Millisecond, 10*time.Millisecond))
	log := &flakyLog{InteractionLog: memory.NewInteractionLog()}
	f := newFixture(t, Config{}, func(d *Deps) { d.Consumer, d.Log = bus, log })
	const users, perUser = 20, 15
	var want []domain.Interaction
	for i := 0; i < perUser; i++ {
		for u := 0; u < users; u++ {
			want = append(want, event(domain.UserID(fmt.Sprint("user_", u)), domain.MovieID(fmt.Sprint("m", i)), domain.EventClick))
		}
	}
	for i := 0; i < len(want); i += 50 {
		if err := bus.Publish(testCtx(t), want[i:min(i+50, len(want))]...); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every event stored and committed", func() bool { return log.Len() == len(want) && bus.Pending() == 0 })
	if testutil.ToFloat64(f.deps.Metrics.IngestFailures) == 0 {
		t.Fatal("no batch failed: the test did not exercise the retry")
	}
	for u := 0; u < users; u++ {
		h, _ := log.UserHistory(testCtx(t), domain.UserID(fmt.Sprint("user_", u)))
		if len(h) != perUser {
			t.Fatalf("user_%d has %d events, want %d", u, len(h), perUser)
		}
	}
	// The recommendation reflects the consumed events.
	s, err := f.sys.Recommend(testCtx(t), "user_0", 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range s.List.Items {
		if it.MovieID == "m0" {
			t.Fatal("consumed event not reflected: m0 recommended")
		}
	}
}

func TestStopCommitsAndRestartResumes(t *testing.T) {
	t.Parallel()
	bus := memory.NewEventBus()
	log := memory.NewInteractionLog()
	mk := func() *fixture {
		return newFixture(t, Config{}, func(d *Deps) { d.Consumer, d.Log = bus, log })
	}
	f1 := mk()
	first := []domain.Interaction{event("user_a", "m1", domain.EventView), event("user_b", "m2", domain.EventView)}
	if err := bus.Publish(testCtx(t), first...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first events stored", func() bool { return log.Len() == 2 && bus.Pending() == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f1.sys.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Published while no node runs: delivered to the next one.
	if err := bus.Publish(testCtx(t), event("user_a", "m3", domain.EventView)); err != nil {
		t.Fatal(err)
	}
	mk()
	waitFor(t, "event published while stopped is applied after restart", func() bool { return log.Len() == 3 })
}
