package kafka_test

import (
	"context"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
)

// TestLagObserver publishes a backlog, then consumes it ten records a
// poll: the first polls report the records still waiting, the last 0.
func TestLagObserver(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 1)
	pub := newPublisher(t, topic)
	var evs []domain.Interaction
	for i := 0; i < 50; i++ {
		evs = append(evs, event("u1", i))
	}
	if err := pub.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lags []int64
	c := newConsumer(t, topic, topic+"-group", kafka.WithMaxPollRecords(10), kafka.WithLagObserver(func(_ string, _ int32, lag int64) {
		mu.Lock()
		lags = append(lags, lag)
		mu.Unlock()
	}))
	var got int
	consume(t, c, func(_ context.Context, batch []domain.Interaction) error {
		mu.Lock()
		got += len(batch)
		mu.Unlock()
		return nil
	})
	waitFor(t, "the backlog consumed", func() bool { mu.Lock(); defer mu.Unlock(); return got == 50 })
	mu.Lock()
	defer mu.Unlock()
	if len(lags) == 0 || lags[0] <= 0 || lags[len(lags)-1] != 0 {
		t.Fatalf("lags observed = %v, want a positive lag first and 0 last", lags)
	}
}
