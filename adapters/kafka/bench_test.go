package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
)

// BenchmarkPublishConsume measures events per second from Publish to the
// handler through the embedded broker, in memory and durable (its log on
// disk, fsynced before each acknowledgement): with one event per Publish
// from many goroutines (the HTTP edge's single events), batches of 20
// from 16 (its batches), and batches of 500 (an importer's).
func BenchmarkPublishConsume(b *testing.B) {
	for _, broker := range []string{"memory", "durable"} {
		for _, bc := range []struct{ batch, publishers int }{{1, 64}, {20, 16}, {500, 4}} {
			b.Run(fmt.Sprintf("broker=%s/batch=%d/publishers=%d", broker, bc.batch, bc.publishers), func(b *testing.B) {
				at := sharedBroker(b)
				if broker == "durable" {
					at = durableBroker(b)
				}
				benchPublishConsume(b, at, bc.batch, bc.publishers)
			})
		}
	}
}

// brokerAt is a broker and what its clients need.
type brokerAt struct {
	addrs []string
	opts  []kafka.Option
	topic string
}

func sharedBroker(b *testing.B) brokerAt {
	return brokerAt{addrs: brokers(b), opts: []kafka.Option{secure(b)}, topic: newTopic(b, 8)}
}

// durableBroker starts a broker of the benchmark's own on a data directory.
func durableBroker(b *testing.B) brokerAt {
	e, err := kafka.StartEmbedded(kafka.WithEmbeddedTopics("bench", "bench.dlq"), kafka.WithEmbeddedDataDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	return brokerAt{addrs: e.Addrs(), opts: e.ClientOptions(), topic: "bench"}
}

func benchPublishConsume(b *testing.B, at brokerAt, batch, publishers int) {
	topic := at.topic
	pub := newPublisherAt(b, at.addrs, topic, at.opts...)
	var assignOnce, doneOnce sync.Once
	assigned, done := make(chan struct{}), make(chan struct{})
	var consumed atomic.Int64
	c, err := kafka.NewConsumer(at.addrs, topic, "bench", fastGroup(append(at.opts, kafka.WithPartitionsAssigned(func(string, []int32) {
		assignOnce.Do(func() { close(assigned) })
	}))...)...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		stopped <- c.Consume(ctx, func(_ context.Context, evs []domain.Interaction) error {
			if consumed.Add(int64(len(evs))) >= int64(b.N) {
				doneOnce.Do(func() { close(done) })
			}
			return nil
		})
	}()
	b.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			b.Error(err)
		}
	})
	select {
	case <-assigned:
	case <-time.After(20 * time.Second):
		b.Fatal("the consumer got no partitions")
	}
	events := make([]domain.Interaction, b.N)
	for i := range events {
		events[i] = event(fmt.Sprintf("user_%d", i%1000), i/1000)
	}

	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for {
				end := int(next.Add(int64(batch)))
				start := end - batch
				if start >= len(events) {
					return
				}
				if err := pub.Publish(context.Background(), events[start:min(end, len(events))]...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("consumed %d of %d events", consumed.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
