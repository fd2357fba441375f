package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
	brokers      []string
	topic        string
	group        string
	cfg          config
	used         atomic.Bool
	deadLettered atomic.Int64
	dlqLog       sampler
}

// NewConsumer returns a Consumer for topic in group. It does not contact
// the brokers; Consume joins the group. Records that cannot be decoded
// or are not valid interactions go to the dead-letter topic (default
// topic + ".dlq", WithDeadLetterTopic).
func NewConsumer(brokers []string, topic, group string, opts ...Option) (*Consumer, error) {
	if len(brokers) == 0 || topic == "" || group == "" {
		return nil, fmt.Errorf("%w: a consumer needs brokers, a topic and a group", ErrConfig)
	}
	c := &Consumer{brokers: brokers, topic: topic, group: group, cfg: newConfig(opts)}
	if c.cfg.deadLetterTopic == "" {
		c.cfg.deadLetterTopic = DeadLetterTopic(topic)
	}
	if c.cfg.deadLetterTopic == topic {
		return nil, fmt.Errorf("%w: the dead-letter topic must differ from the topic %s", ErrConfig, topic)
	}
	if _, err := c.cfg.security.KgoOptions(); err != nil {
		return nil, err
	}
	return c, nil
}

// DeadLettered returns how many records this consumer moved to the
// dead-letter topic.
func (c *Consumer) DeadLettered() int64 { return c.deadLettered.Load() }

// Consume joins the group and hands each poll's events to handle until ctx
// is done; then it commits what was handled, leaves the group and returns
// nil. A batch holds the valid records of every partition the poll
// returned, each partition in offset order, so each user's events are in
// publish order; the other records go to the dead-letter topic first.
//
// A batch is handled a bounded number of times in place (3 by default,
// WithHandleAttempts). Then, in each partition, the records before the
// first one not stored are committed; a partition that still has one is
// rewound to it and paused for a backoff (50ms doubling to 5s while it
// keeps failing, WithRetryBackoff), while the other partitions go on. So
// one user whose writes fail, or a store that is down, holds back only
// the partitions concerned, and never blocks a rebalance for longer than
// one handling of a batch: when the group wants to rebalance, the retries
// stop early and what is done is committed. A commit that fails is
// logged: the batch is delivered again to whoever owns the partition
// next, which idempotent handlers tolerate. Consume may be called once
// per Consumer; it returns an error only for that or when the client
// cannot be created.
func (c *Consumer) Consume(ctx context.Context, handle ports.EventHandler) error {
	if !c.used.CompareAndSwap(false, true) {
		return ErrConsumed
	}
	if ctx.Err() != nil {
		return nil
	}
	holds := newHolds(c.cfg.minBackoff, c.cfg.maxBackoff)
	var hurry atomic.Bool
	cl, err := c.cfg.newClient(c.brokers, c.groupOpts(holds, &hurry)...)
	if err != nil {
		return err
	}
	defer c.leave(ctx, cl)
	for {
		if due := holds.due(time.Now()); len(due) > 0 {
			cl.ResumeFetchPartitions(due)
		}
		records, failed := c.poll(ctx, cl, holds.next())
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
		if len(records) > 0 && !c.process(ctx, cl, handle, records, holds, &hurry) {
			cl.AllowRebalance()
			return nil
		}
		// Only now may the group move partitions: everything handled
		// from them is committed, so their next owner resumes exactly
		// after it. This is why OnPartitionsRevoked need not commit.
		hurry.Store(false)
		cl.AllowRebalance()
	}
}

// groupOpts configure the group member. Rebalances are blocked from a
// poll until AllowRebalance, so they only happen between batches; offsets
// are committed by hand, after the handler succeeded; a group without
// commits starts at the oldest record, so no event is skipped. A blocked
// rebalance sets hurry, which cuts a batch's retries short; partitions
// that leave this member are no longer held.
func (c *Consumer) groupOpts(holds *holds, hurry *atomic.Bool) []kgo.Opt {
	gone := func(what string) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, cl *kgo.Client, m map[string][]int32) {
			if held := holds.drop(m); len(held) > 0 {
				// A paused partition stays paused across assignments
				// in kgo; it will be fetched from its committed offset
				// by whoever owns it next, this member included.
				cl.ResumeFetchPartitions(held)
			}
			c.partitionsChanged(what, m, c.cfg.onRevoked)
		}
	}
	return []kgo.Opt{
		kgo.ConsumerGroup(c.group),
		kgo.ConsumeTopics(c.topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(c.cfg.sessionTimeout),
		kgo.RebalanceTimeout(c.cfg.rebalance),
		kgo.HeartbeatInterval(c.cfg.heartbeat),
		// A resumed partition waits for the fetch in flight; keep that
		// wait short so a held partition is retried on time.
		kgo.FetchMaxWait(c.cfg.fetchMaxWait),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { hurry.Store(true) }),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			c.partitionsChanged("assigned", m, c.cfg.onAssigned)
		}),
		kgo.OnPartitionsRevoked(gone("revoked")),
		kgo.OnPartitionsLost(gone("lost")),
	}
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

// poll returns the next records, waiting at most until wake when it is
// not zero (a held partition is due then), and logs fetch errors (kgo
// keeps retrying the partitions they concern); failed reports whether
// there were any.
func (c *Consumer) poll(ctx context.Context, cl *kgo.Client, wake time.Time) (records []*kgo.Record, failed bool) {
	pctx := ctx
	if !wake.IsZero() {
		var cancel context.CancelFunc
		pctx, cancel = context.WithDeadline(ctx, wake)
		defer cancel()
	}
	fetches := cl.PollRecords(pctx, c.cfg.maxPollRecords)
	fetches.EachError(func(topic string, partition int32, err error) {
		if pctx.Err() != nil || errors.Is(err, kgo.ErrClientClosed) {
			return // our own deadline, or shutting down
		}
		failed = true
		c.cfg.logger.Warn("fetch failed", "topic", topic, "partition", partition, "err", err)
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

// commit synchronously commits records. It outlives ctx: a batch that was
// handled just as ctx ended is still committed, so the next member does
// not repeat it.
func (c *Consumer) commit(ctx context.Context, cl *kgo.Client, records []*kgo.Record) {
	if len(records) == 0 {
		return
	}
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
