package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TrimCommitted deletes the records of topic that group has committed
// (Kafka's DeleteRecords up to each partition's committed offset) and
// returns how many partitions it trimmed. The in-process broker keeps
// every record in memory and enforces no retention by default, so a
// long-running embedded node trims what its consumers are done with;
// records not yet committed are never touched.
func TrimCommitted(ctx context.Context, brokers []string, topic, group string, opts ...Option) (int, error) {
	cfg := newConfig(opts)
	cl, err := cfg.newClient(brokers)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	committed, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return 0, nil // nothing committed yet
	}
	if err != nil {
		return 0, fmt.Errorf("kafka: committed offsets of %s: %w", group, err)
	}
	var to kadm.Offsets
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			to.AddOffset(o.Topic, o.Partition, o.At, -1)
		}
	})
	if len(to) == 0 {
		return 0, nil
	}
	resp, err := adm.DeleteRecords(ctx, to)
	if err != nil {
		return 0, fmt.Errorf("kafka: delete committed records of %s: %w", topic, err)
	}
	n := 0
	for _, r := range resp.Sorted() {
		if r.Err != nil {
			return n, fmt.Errorf("kafka: delete records of %s/%d: %w", r.Topic, r.Partition, r.Err)
		}
		n++
	}
	return n, nil
}

// KeepTrimmed runs TrimCommitted every period until ctx ends, logging
// failures (a failed trim only delays the next).
func KeepTrimmed(ctx context.Context, brokers []string, topic, group string, every time.Duration, logger *slog.Logger, opts ...Option) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tctx, cancel := context.WithTimeout(ctx, every)
			if _, err := TrimCommitted(tctx, brokers, topic, group, opts...); err != nil && ctx.Err() == nil {
				logger.Warn("trimming the embedded event stream failed", "err", err)
			}
			cancel()
		}
	}
}
