package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/ports"
)

// EnsureTopic creates topic with the given partitions and replication
// factor unless it exists; an existing topic is left as it is, whatever its
// settings, because repartitioning would move users between partitions and
// break their order. Use -1 for the broker's defaults. Failing to reach the
// brokers wraps ports.ErrUnavailable; options may carry a logger and client
// options (TLS, SASL).
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions int32, replication int16, opts ...Option) error {
	if len(brokers) == 0 || topic == "" {
		return fmt.Errorf("%w: creating a topic needs brokers and a topic", ErrConfig)
	}
	cfg := newConfig(opts)
	cl, err := kgo.NewClient(cfg.baseOpts(brokers)...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, replication, nil, topic)
	switch {
	case err == nil:
		cfg.logger.Info("created topic", "topic", topic, "partitions", resp.NumPartitions, "replication", resp.ReplicationFactor)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("kafka: create topic %s: %w (%w)", topic, ctx.Err(), err)
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		// The broker answered: the request itself is wrong or forbidden.
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	return fmt.Errorf("kafka: create topic %s: %w: %w", topic, ports.ErrUnavailable, err)
}
