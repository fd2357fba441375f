package kafka_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
)

// TestTrimCommitted: records the group committed leave the broker, the
// ones it has not stay.
func TestTrimCommitted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	topic := newTopic(t, 2)
	group := topic + "-group"
	pub := newPublisher(t, topic)
	var events []domain.Interaction
	for i := range 40 {
		events = append(events, event([]string{"u1", "u2", "u3"}[i%3], i))
	}
	if err := pub.Publish(ctx, events...); err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- newConsumer(t, topic, group).Consume(cctx, func(_ context.Context, evs []domain.Interaction) error {
			handled.Add(int64(len(evs)))
			return nil
		})
	}()
	waitFor(t, "every event handled", func() bool { return handled.Load() == 40 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Published after the consumer stopped: not committed, so kept.
	if err := pub.Publish(ctx, event("u1", 100), event("u2", 101)); err != nil {
		t.Fatal(err)
	}

	n, err := kafka.TrimCommitted(ctx, brokers(t), topic, group, secure(t))
	if err != nil || n == 0 {
		t.Fatalf("TrimCommitted: %d partitions, %v", n, err)
	}
	cl, err := kgo.NewClient(rawOpts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var left int64
	starts.Each(func(s kadm.ListedOffset) {
		e, _ := ends.Lookup(topic, s.Partition)
		left += e.Offset - s.Offset
	})
	if left != 2 {
		t.Fatalf("%d records left after trimming, want the 2 not committed", left)
	}

	// A group that committed nothing trims nothing.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := kafka.TrimCommitted(tctx, brokers(t), topic, "nobody", secure(t)); err != nil || n != 0 {
		t.Fatalf("trim for a group without commits: %d, %v", n, err)
	}
}
