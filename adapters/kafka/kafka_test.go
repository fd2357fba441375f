package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

// cluster is the broker every test shares; each test isolates itself with
// its own topic and group. It starts on first use, so that fuzzing, which
// needs no broker, does not run kfake's background goroutines: they would
// make the fuzzer's coverage signal noisy.
var (
	clusterOnce sync.Once
	cluster     *kafka.Embedded
	clusterErr  error
	topicSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Close()
	}
	os.Exit(code)
}

// brokers returns the shared cluster's addresses, starting it if needed.
func brokers(tb testing.TB) []string {
	tb.Helper()
	clusterOnce.Do(func() { cluster, clusterErr = kafka.StartEmbedded(kafka.WithEmbeddedTopics()) })
	if clusterErr != nil {
		tb.Fatal(clusterErr)
	}
	return cluster.Addrs()
}

// secure is the option every client of the shared cluster needs: its
// SASL credentials.
func secure(tb testing.TB) kafka.Option {
	tb.Helper()
	brokers(tb)
	return kafka.WithSecurity(cluster.Security())
}

// rawOpts are the franz-go options of a raw client of the shared cluster.
func rawOpts(tb testing.TB, opts ...kgo.Opt) []kgo.Opt {
	tb.Helper()
	sec, err := cluster.Security().KgoOptions()
	if err != nil {
		tb.Fatal(err)
	}
	return append(append([]kgo.Opt{kgo.SeedBrokers(brokers(tb)...)}, sec...), opts...)
}

// newTopic creates a fresh topic on the shared cluster.
func newTopic(tb testing.TB, partitions int32) string {
	tb.Helper()
	topic := fmt.Sprintf("test-%d", topicSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range []string{topic, kafka.DeadLetterTopic(topic)} {
		if err := kafka.EnsureTopic(ctx, brokers(tb), t, partitions, 1, secure(tb)); err != nil {
			tb.Fatal(err)
		}
	}
	// A second call finds the topic and is fine with it.
	if err := kafka.EnsureTopic(ctx, brokers(tb), topic, partitions, 1, secure(tb)); err != nil {
		tb.Fatalf("EnsureTopic on an existing topic: %v", err)
	}
	return topic
}

// fastGroup keeps group membership snappy against the embedded broker.
func fastGroup(opts ...kafka.Option) []kafka.Option {
	return append([]kafka.Option{
		kafka.WithSessionTimeout(3 * time.Second),
		kafka.WithHeartbeatInterval(100 * time.Millisecond),
		kafka.WithRebalanceTimeout(5 * time.Second),
	}, opts...)
}

// newPublisher returns a publisher of the shared cluster's topic.
func newPublisher(tb testing.TB, topic string, opts ...kafka.Option) *kafka.Publisher {
	tb.Helper()
	return newPublisherAt(tb, brokers(tb), topic, append([]kafka.Option{secure(tb)}, opts...)...)
}

func newPublisherAt(tb testing.TB, addrs []string, topic string, opts ...kafka.Option) *kafka.Publisher {
	tb.Helper()
	pub, err := kafka.NewPublisher(addrs, topic, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pub.Close)
	return pub
}

func newConsumer(tb testing.TB, topic, group string, opts ...kafka.Option) *kafka.Consumer {
	tb.Helper()
	c, err := kafka.NewConsumer(brokers(tb), topic, group, fastGroup(append([]kafka.Option{secure(tb)}, opts...)...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestEventBus(t *testing.T) {
	t.Parallel()
	porttest.EventBus(t, func(t *testing.T) (ports.EventPublisher, func(*testing.T) ports.EventConsumer) {
		topic := newTopic(t, 8)
		pub := newPublisher(t, topic)
		return pub, func(t *testing.T) ports.EventConsumer { return newConsumer(t, topic, topic+"-group") }
	})
}

// consume runs c in the background until the test ends.
func consume(t *testing.T, c *kafka.Consumer, h ports.EventHandler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Consume(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume: %v", err)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func event(user string, seq int) domain.Interaction {
	ts := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	return domain.Interaction{
		EventID: fmt.Sprintf("e-%s-%d", user, seq), UserID: domain.UserID(user), MovieID: "m1",
		Type: domain.EventClick, Weight: 2, Time: ts, IngestedAt: ts,
	}
}

// TestPublishKeysByUser reads the raw records back: the key is the user id
// and all of one user's events sit in one partition, in publish order.
func TestPublishKeysByUser(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 8)
	pub := newPublisher(t, topic)
	const users, perUser = 16, 10
	var events []domain.Interaction
	for seq := range perUser {
		for u := range users {
			events = append(events, event(fmt.Sprintf("user_%d", u), seq))
		}
	}
	if err := pub.Publish(context.Background(), events...); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(rawOpts(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var records []*kgo.Record
	for len(records) < len(events) && ctx.Err() == nil {
		records = append(records, cl.PollFetches(ctx).Records()...)
	}
	if len(records) != len(events) {
		t.Fatalf("read %d records, want %d", len(records), len(events))
	}
	partitionOf := map[string]int32{}
	lastSeq := map[string]int{}
	for _, r := range records {
		ev, err := kafka.Decode(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != string(ev.UserID) {
			t.Errorf("record key %q, want the user id %q", r.Key, ev.UserID)
		}
		if p, ok := partitionOf[string(r.Key)]; ok && p != r.Partition {
			t.Errorf("user %s in partitions %d and %d", r.Key, p, r.Partition)
		}
		partitionOf[string(r.Key)] = r.Partition
		var seq int
		fmt.Sscanf(ev.EventID[len("e-"+string(ev.UserID)+"-"):], "%d", &seq)
		if last, ok := lastSeq[string(r.Key)]; ok && seq != last+1 {
			t.Errorf("user %s: event %d follows %d in its partition", r.Key, seq, last)
		}
		lastSeq[string(r.Key)] = seq
	}
	used := map[int32]bool{}
	for _, p := range partitionOf {
		used[p] = true
	}
	if len(used) < 2 {
		t.Errorf("%d users all landed in %d partition(s); the key is not spreading them", users, len(used))
	}
}

// TestPublishUnavailable checks that Publish gives up within the delivery
// timeout with ports.ErrUnavailable, so the HTTP edge can answer 503, and
// that a caller's own deadline is reported as such.
func TestPublishUnavailable(t *testing.T) {
	t.Parallel()
	closedPort := func(t *testing.T) ([]string, func(), kafka.Security) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return []string{addr}, nil, kafka.Security{}
	}
	brokerGone := func(t *testing.T) ([]string, func(), kafka.Security) {
		e, err := kafka.StartEmbedded(kafka.WithEmbeddedTopics("gone"))
		if err != nil {
			t.Fatal(err)
		}
		return e.Addrs(), e.Close, e.Security()
	}
	tests := []struct {
		name     string
		start    func(t *testing.T) (addrs []string, stop func(), sec kafka.Security)
		delivery time.Duration
		ctxLimit time.Duration
		wantErr  error
	}{
		{"nothing listening", closedPort, time.Second, time.Minute, ports.ErrUnavailable},
		{"broker gone after metadata", brokerGone, time.Second, time.Minute, ports.ErrUnavailable},
		{"caller's deadline first", closedPort, time.Minute, 300 * time.Millisecond, context.DeadlineExceeded},
		{"broker gone, caller's deadline first", brokerGone, time.Minute, 300 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addrs, stop, sec := tt.start(t)
			pub := newPublisherAt(t, addrs, "gone", kafka.WithDeliveryTimeout(tt.delivery), kafka.WithSecurity(sec))
			if stop != nil {
				if err := pub.Publish(context.Background(), event("user_1", 0)); err != nil {
					t.Fatalf("publish while the broker is up: %v", err)
				}
				stop()
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctxLimit)
			defer cancel()
			start := time.Now()
			err := pub.Publish(ctx, event("user_1", 1))
			elapsed := time.Since(start)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Publish = %v, want %v", err, tt.wantErr)
			}
			if limit := 5*min(tt.delivery, tt.ctxLimit) + 2*time.Second; elapsed > limit {
				t.Errorf("Publish failed after %v, want well under %v", elapsed, limit)
			}
			t.Logf("failed after %v: %v", elapsed, err)
		})
	}
}
