package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.EventConsumer = (*Consumer)(nil)

// ErrConsumed is returned by a second Consume on one Consumer: a restarted
// consumer is a new group member, so it is a new Consumer.
var ErrConsumed = errors.New("kafka: Consume already called on this consumer")

// leaveTimeout bounds leaving the group on shutdown, so a dead broker
// cannot hold the process; the coordinator then notices at the session
// timeout instead.
const leaveTimeout = 5 * time.Second

// Consumer is one member of a consumer group reading one topic.
type Consumer struct {
	brokers     []string
	topic       string
	group       string
	cfg         config
	used        atomic.Bool
	undecodable atomic.Int64
}

// NewConsumer returns a Consumer for topic in group. It does not contact
// the brokers; Consume joins the group.
func NewConsumer(brokers []string, topic, group string, opts ...Option) (*Consumer, error) {
	if len(brokers) == 0 || topic == "" || group == "" {
		return nil, fmt.Errorf("%w: a consumer needs brokers, a topic and a group", ErrConfig)
	}
	return &Consumer{brokers: brokers, topic: topic, group: group, cfg: newConfig(opts)}, nil
}

// Undecodable returns how many records this consumer skipped because their
// value could not be decoded; each was also logged at error level.
func (c *Consumer) Undecodable() int64 { return c.undecodable.Load() }

// Consume joins the group and hands each poll's events to handle until ctx
// is done; then it commits what was handled, leaves the group and returns
// nil. A batch holds the decodable records of every partition the poll
// returned, each partition in offset order, so each user's events are in
// publish order. It is committed after handle returned nil and handed again
// (after 50ms, doubling to 5s by default) after an error. A commit that
// fails is logged and not retried: the batch is redelivered to whoever owns
// the partition next, which idempotent handlers tolerate. Consume may be
// called once per Consumer; it returns an error only for that or when the
// client cannot be created.
func (c *Consumer) Consume(ctx context.Context, handle ports.EventHandler) error {
	if !c.used.CompareAndSwap(false, true) {
		return ErrConsumed
	}
	if ctx.Err() != nil {
		return nil
	}
	cl, err := kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer c.leave(ctx, cl)
	for {
		records, failed := c.poll(ctx, cl)
		if failed && len(records) == 0 {
			// Pace a poll loop that only yields errors (a group or
			// authorization failure) instead of spinning on it.
			c.sleep(ctx, c.cfg.minBackoff)
		}
		if ctx.Err() != nil {
			// Records polled while shutting down were not handed to
			// anyone; leaving them uncommitted redelivers them.
			cl.AllowRebalance()
			return nil
		}
		if len(records) > 0 && c.handle(ctx, handle, records) {
			c.commit(ctx, cl, records)
		}
		// Only now may the group move partitions: everything handled
		// from them is committed, so their next owner resumes exactly
		// after it. This is why OnPartitionsRevoked need not commit.
		cl.AllowRebalance()
	}
}

// clientOpts configures the group member. Rebalances are blocked from a
// poll until AllowRebalance, so they only happen between batches; offsets
// are committed by hand, after the handler succeeded; a group without
// commits starts at the oldest record, so no event is skipped.
func (c *Consumer) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{
		kgo.ConsumerGroup(c.group),
		kgo.ConsumeTopics(c.topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(c.cfg.sessionTimeout),
		kgo.RebalanceTimeout(c.cfg.rebalance),
		kgo.HeartbeatInterval(c.cfg.heartbeat),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			c.partitionsChanged("assigned", m, c.cfg.onAssigned)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			c.partitionsChanged("revoked", m, c.cfg.onRevoked)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			c.partitionsChanged("lost", m, c.cfg.onRevoked)
		}),
	}, c.cfg.baseOpts(c.brokers)...)
}

func (c *Consumer) partitionsChanged(what string, m map[string][]int32, fn func(string, []int32)) {
	for topic, parts := range m {
		slices.Sort(parts)
		c.cfg.logger.Info("partitions "+what, "topic", topic, "group", c.group, "partitions", parts)
		if fn != nil {
			fn(topic, parts)
		}
	}
}

// poll returns the next records and logs fetch errors (kgo keeps retrying
// the partitions they concern); failed reports whether there were any.
func (c *Consumer) poll(ctx context.Context, cl *kgo.Client) (records []*kgo.Record, failed bool) {
	fetches := cl.PollRecords(ctx, c.cfg.maxPollRecords)
	fetches.EachError(func(topic string, partition int32, err error) {
		failed = true
		if ctx.Err() == nil && !errors.Is(err, kgo.ErrClientClosed) {
			c.cfg.logger.Warn("fetch failed", "topic", topic, "partition", partition, "err", err)
		}
	})
	if c.cfg.onLag != nil {
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				c.cfg.onLag(p.Topic, p.Partition, max(0, p.HighWatermark-p.Records[n-1].Offset-1))
			}
		})
	}
	return fetches.Records(), failed
}

// sleep waits for d or until ctx is done, whichever comes first, and
// reports whether ctx is still alive.
func (c *Consumer) sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// handle decodes records and hands the events to h until it succeeds. It
// returns false when ctx ended first: the batch must then stay uncommitted.
// Records that cannot be decoded are skipped (and committed with the rest),
// so a bad record cannot block its partition.
func (c *Consumer) handle(ctx context.Context, h ports.EventHandler, records []*kgo.Record) bool {
	events := make([]domain.Interaction, 0, len(records))
	for _, r := range records {
		ev, err := Decode(r.Value)
		if err != nil {
			c.undecodable.Add(1)
			c.cfg.logger.Error("skipping undecodable record", "topic", r.Topic, "partition", r.Partition,
				"offset", r.Offset, "key", string(r.Key), "err", err)
			continue
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		return true
	}
	backoff := c.cfg.minBackoff
	for attempt := 1; ; attempt++ {
		// A fresh slice per attempt: a handler that reorders its
		// input cannot change what the retry sees.
		err := h(ctx, slices.Clone(events))
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		c.cfg.logger.Warn("event batch failed; retrying", "events", len(events), "attempt", attempt,
			"backoff", backoff, "err", err)
		if !c.sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, c.cfg.maxBackoff)
	}
}

// commit synchronously commits records. It outlives ctx: a batch that was
// handled just as ctx ended is still committed, so the next member does
// not repeat it.
func (c *Consumer) commit(ctx context.Context, cl *kgo.Client, records []*kgo.Record) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.commitTimeout)
	defer cancel()
	if err := cl.CommitRecords(cctx, records...); err != nil {
		c.cfg.logger.Error("offset commit failed; the batch will be delivered again after a restart or rebalance",
			"topic", c.topic, "group", c.group, "records", len(records), "err", err)
	}
}

// leave leaves the group, bounded by leaveTimeout, and closes the client.
func (c *Consumer) leave(ctx context.Context, cl *kgo.Client) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
	defer cancel()
	if err := cl.LeaveGroupContext(lctx); err != nil {
		c.cfg.logger.Warn("leaving the consumer group failed", "group", c.group, "err", err)
	}
	cl.Close()
}
