package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.EventPublisher = (*Publisher)(nil)

// ErrConfig marks a constructor argument that cannot work (no brokers, no
// topic), as opposed to a broker that cannot be reached.
var ErrConfig = errors.New("kafka: bad configuration")

// Publisher produces interaction events to one topic. It is safe for
// concurrent use; concurrent Publish calls share produce requests.
type Publisher struct {
	cl      *kgo.Client
	topic   string
	timeout time.Duration
	logSync func(topic string, partitions []int32) error
}

// NewPublisher returns a Publisher for topic. It does not contact the
// brokers: Marquee starts even when Kafka is down and reports it per
// request. The producer is idempotent and waits for all in-sync replicas,
// which is what makes an acknowledged event durable and a retried one
// neither duplicated nor reordered.
func NewPublisher(brokers []string, topic string, opts ...Option) (*Publisher, error) {
	if len(brokers) == 0 || topic == "" {
		return nil, fmt.Errorf("%w: a publisher needs brokers and a topic", ErrConfig)
	}
	cfg := newConfig(opts)
	cl, err := cfg.newClient(brokers,
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(cfg.linger),
		// The timeout counts from the first record of a batch, linger
		// included (see kgo.RecordDeliveryTimeout).
		kgo.RecordDeliveryTimeout(cfg.deliveryTimeout+cfg.linger),
		// By default an idempotent producer never gives up on a record
		// that may be in flight, so a broker that dies mid-request
		// would hang Publish (and the HTTP request) for good, deadline
		// or not. Marquee prefers a prompt 503: the worst case is that
		// a record the caller saw fail was stored and the caller's
		// retry stores it again, which consumers dedupe by EventID.
		kgo.AllowIdempotentProduceCancellation(),
	)
	if err != nil {
		return nil, err
	}
	return &Publisher{cl: cl, topic: topic, timeout: cfg.deliveryTimeout, logSync: cfg.logSync}, nil
}

// Publish produces events, keyed by user id so that each user's events
// share a partition and keep their order, and returns once all of them are
// acknowledged. A failure wraps ports.ErrUnavailable, unless ctx ended
// first, in which case it wraps ctx's error. After a failure some of the
// events may still have been stored; a caller that retries relies on the
// consumers' idempotency (EventID), as for any at-least-once producer.
func (p *Publisher) Publish(ctx context.Context, events ...domain.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	records := make([]*kgo.Record, len(events))
	for i, ev := range events {
		value, err := Encode(ev)
		if err != nil {
			return fmt.Errorf("kafka: publish: %w", err)
		}
		records[i] = &kgo.Record{Key: []byte(ev.UserID), Value: value}
	}
	// kgo fails buffered records on RecordDeliveryTimeout or a done
	// context only when it next handles their partition, which after a
	// broker vanished waits for a metadata refresh, seconds later. So the
	// wait is bounded here; records left behind are failed by kgo later
	// (or by Close), which ends the goroutine.
	pctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.cl.ProduceSync(pctx, records...).FirstErr() }()
	var err error
	select {
	case err = <-done:
	case <-pctx.Done():
		select {
		case err = <-done: // acknowledged just in time
		default:
			err = pctx.Err()
		}
	}
	if err == nil && p.logSync != nil {
		if err = p.logSync(p.topic, partitionsOf(records)); err != nil {
			return fmt.Errorf("kafka: produce to %s: %w: %w", p.topic, ports.ErrUnavailable, err)
		}
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return fmt.Errorf("kafka: produce to %s: %w", p.topic, ctx.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("kafka: produce to %s: %w (%w)", p.topic, ctx.Err(), err)
	case pctx.Err() != nil:
		return fmt.Errorf("kafka: produce to %s: %w: not acknowledged within %v", p.topic, ports.ErrUnavailable, p.timeout)
	default:
		return fmt.Errorf("kafka: produce to %s: %w: %w", p.topic, ports.ErrUnavailable, err)
	}
}

// partitionsOf returns the distinct partitions records were produced to.
func partitionsOf(records []*kgo.Record) []int32 {
	var out []int32
	for _, r := range records {
		if !slices.Contains(out, r.Partition) {
			out = append(out, r.Partition)
		}
	}
	return out
}

// Close flushes nothing and drops the connections: records of a Publish
// still in flight fail. Call it after the HTTP server stopped accepting
// events.
func (p *Publisher) Close() { p.cl.Close() }

// Ping checks that a broker answers, for readiness probes. A failure wraps
// ports.ErrUnavailable.
func (p *Publisher) Ping(ctx context.Context) error {
	if err := p.cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka: %w: %w", ports.ErrUnavailable, err)
	}
	return nil
}
