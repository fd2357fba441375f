package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
)

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func() error
	}{
		{"publisher without brokers", func() error { _, err := kafka.NewPublisher(nil, "t"); return err }},
		{"publisher without topic", func() error { _, err := kafka.NewPublisher([]string{"localhost:9092"}, ""); return err }},
		{"consumer without group", func() error { _, err := kafka.NewConsumer([]string{"localhost:9092"}, "t", ""); return err }},
		{"consumer without topic", func() error { _, err := kafka.NewConsumer([]string{"localhost:9092"}, "", "g"); return err }},
		{"topic without brokers", func() error { return kafka.EnsureTopic(context.Background(), nil, "t", 1, 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.make(); !errors.Is(err, kafka.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestConsumeOnlyOnce(t *testing.T) {
	t.Parallel()
	c := newConsumer(t, "unused", "unused")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Consume(ctx, nil); err != nil {
		t.Fatalf("first Consume = %v, want nil", err)
	}
	if err := c.Consume(ctx, nil); !errors.Is(err, kafka.ErrConsumed) {
		t.Fatalf("second Consume = %v, want ErrConsumed", err)
	}
}

// TestConsumerSkipsUndecodable puts garbage between good records of one
// partition: the consumer must count it, skip it, go on, and commit past
// it so that a restarted consumer does not trip over it again.
func TestConsumerSkipsUndecodable(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 1)
	raw, err := kgo.NewClient(kgo.SeedBrokers(brokers(t)...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	good := func(seq int) *kgo.Record {
		b, err := kafka.Encode(event("user_1", seq))
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Key: []byte("user_1"), Value: b}
	}
	records := []*kgo.Record{good(0), {Key: []byte("user_1"), Value: []byte(`{"v":99}`)}, good(1), {Value: []byte("garbage")}, good(2)}
	if err := raw.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []string
	c := newConsumer(t, topic, "g")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Consume(ctx, func(_ context.Context, evs []domain.Interaction) error {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				got = append(got, ev.EventID)
			}
			return nil
		})
	}()
	waitFor(t, "the good records", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "[e-user_1-0 e-user_1-1 e-user_1-2]"; fmt.Sprint(got) != want {
		t.Errorf("handled %v, want %s", got, want)
	}
	if n := c.Undecodable(); n != 2 {
		t.Errorf("Undecodable = %d, want 2", n)
	}

	// The group committed past the garbage: a new member sees nothing.
	again := newConsumer(t, topic, "g")
	calls := 0
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if err := again.Consume(ctx2, func(context.Context, []domain.Interaction) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 0 || again.Undecodable() != 0 {
		t.Errorf("after a restart: %d handler calls, %d undecodable; want none", calls, again.Undecodable())
	}
}

// TestConsumerGroupHandover adds a second member mid-stream. Partitions
// move between members only at committed offsets, so across both members
// every user's events arrive exactly once and in order, and the callbacks
// report who owns what.
func TestConsumerGroupHandover(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 8)
	pub := newPublisher(t, brokers(t), topic)
	var (
		mu       sync.Mutex
		log      []domain.Interaction
		owned    = map[string]map[int32]bool{"a": {}, "b": {}}
		revokes  int
		handlers = func(member string) []kafka.Option {
			return []kafka.Option{
				kafka.WithMaxPollRecords(50),
				kafka.WithPartitionsAssigned(func(tp string, ps []int32) {
					mu.Lock()
					defer mu.Unlock()
					for _, p := range ps {
						owned[member][p] = true
					}
				}),
				kafka.WithPartitionsRevoked(func(tp string, ps []int32) {
					mu.Lock()
					defer mu.Unlock()
					for _, p := range ps {
						delete(owned[member], p)
						revokes++
					}
				}),
			}
		}
		handle = func(_ context.Context, evs []domain.Interaction) error {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, evs...)
			return nil
		}
		count = func() int { mu.Lock(); defer mu.Unlock(); return len(log) }
	)
	const users, perUser = 40, 30
	publishSeq := func(from, to int) {
		for seq := from; seq < to; seq++ {
			var evs []domain.Interaction
			for u := range users {
				evs = append(evs, event(fmt.Sprintf("user_%d", u), seq))
			}
			if err := pub.Publish(context.Background(), evs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	consume(t, newConsumer(t, topic, "g", handlers("a")...), handle)
	waitFor(t, "a to own every partition", func() bool { mu.Lock(); defer mu.Unlock(); return len(owned["a"]) == 8 })
	publishSeq(0, 10)
	waitFor(t, "a to consume a few batches", func() bool { return count() > 0 })
	consume(t, newConsumer(t, topic, "g", handlers("b")...), handle)
	publishSeq(10, 20)
	waitFor(t, "b to own partitions", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(owned["b"]) > 0 && len(owned["a"])+len(owned["b"]) == 8
	})
	publishSeq(20, perUser)
	waitFor(t, "every event", func() bool { return count() >= users*perUser })

	mu.Lock()
	defer mu.Unlock()
	if revokes == 0 {
		t.Error("no partition was revoked from a; the handover was not exercised")
	}
	next := map[domain.UserID]int{}
	for _, ev := range log {
		want := fmt.Sprintf("e-%s-%d", ev.UserID, next[ev.UserID])
		if ev.EventID != want {
			t.Errorf("user %s: got %s, want %s", ev.UserID, ev.EventID, want)
			continue
		}
		next[ev.UserID]++
	}
	if len(log) != users*perUser {
		t.Errorf("%d deliveries, want %d", len(log), users*perUser)
	}
}
