package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/marquee-recsys/marquee/ports"
)

// ErrStalled is returned by WaitCommitted when the group stopped making
// progress (its store is down, say) before it caught up.
var ErrStalled = errors.New("kafka: the consumer group stopped committing")

// WaitCommitted waits until group has committed every record of topic that
// exists when it is called: the consumers have stored and committed
// everything produced so far. A node shutting down with an in-process
// broker calls it after it stopped accepting events. It gives up when ctx
// ends, or with ErrStalled when no offset moved for stall (0: never), and
// then returns how many of those records are not committed.
func WaitCommitted(ctx context.Context, brokers []string, topic, group string, stall time.Duration, opts ...Option) (remaining int64, err error) {
	cfg := newConfig(opts)
	cl, err := cfg.newClient(brokers)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("kafka: end offsets of %s: %w: %w", topic, ports.ErrUnavailable, err)
	}
	remaining, lastMove := int64(-1), time.Now()
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			left := behind(ends, committed, topic)
			if left == 0 {
				return 0, nil
			}
			if left != remaining {
				remaining, lastMove = left, time.Now()
			}
		}
		if stall > 0 && time.Since(lastMove) > stall {
			return remaining, fmt.Errorf("%w: %d records of %s not committed by %s after %v without progress", ErrStalled, remaining, topic, group, stall)
		}
		select {
		case <-ctx.Done():
			return remaining, fmt.Errorf("kafka: %s has not committed all of %s: %w", group, topic, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// behind returns how many of the records before the end offsets listed
// when waiting began the group has not committed.
func behind(ends kadm.ListedOffsets, committed kadm.OffsetResponses, topic string) int64 {
	var n int64
	ends.Each(func(end kadm.ListedOffset) {
		if end.Topic != topic || end.Offset <= 0 {
			return
		}
		c, found := committed.Lookup(topic, end.Partition)
		switch {
		case !found || c.Err != nil || c.At < 0:
			n += end.Offset // nothing committed: the whole partition, trimmed records included
		case c.At < end.Offset:
			n += end.Offset - c.At
		}
	})
	return n
}
