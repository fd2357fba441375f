package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/ports"
)

// WaitCommitted waits until group has committed every record of topic that
// exists when it is called: the consumers have stored and committed
// everything produced so far. A node shutting down with an in-process
// broker calls it after it stopped accepting events, since that broker's
// records die with the process; with a real cluster, unconsumed records
// simply wait for the next consumer. It gives up when ctx ends.
func WaitCommitted(ctx context.Context, brokers []string, topic, group string, opts ...Option) error {
	cfg := newConfig(opts)
	cl, err := kgo.NewClient(cfg.baseOpts(brokers)...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("kafka: end offsets of %s: %w: %w", topic, ports.ErrUnavailable, err)
	}
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil && caughtUp(ends, committed, topic) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: %s has not committed all of %s: %w", group, topic, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// caughtUp reports whether every partition's committed offset has reached
// the end offset listed when waiting began.
func caughtUp(ends kadm.ListedOffsets, committed kadm.OffsetResponses, topic string) bool {
	ok := true
	ends.Each(func(end kadm.ListedOffset) {
		if end.Topic != topic || end.Offset == 0 {
			return
		}
		c, found := committed.Lookup(topic, end.Partition)
		if !found || c.Err != nil || c.At < end.Offset {
			ok = false
		}
	})
	return ok
}
