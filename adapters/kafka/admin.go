package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/marquee-recsys/marquee/ports"
)

// EnsureTopic creates topic with the given partitions and replication
// factor unless it exists; an existing topic is left as it is, whatever its
// settings, because repartitioning would move users between partitions and
// break their order. Use -1 for the broker's defaults (Kafka's
// default.replication.factor and num.partitions), which is what a
// deployment should usually pass for the replication factor: an acks=all
// producer is only as durable as the replicas of its topic.
// WithMinInsyncReplicas sets the topic's min.insync.replicas when it is
// created. Failing to reach the brokers wraps ports.ErrUnavailable; options
// may carry a logger and security settings.
//
// A topic left with a single replica on a cluster of several brokers is
// logged as a warning, since one broker's loss then loses events.
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions int32, replication int16, opts ...Option) error {
	if len(brokers) == 0 || topic == "" {
		return fmt.Errorf("%w: creating a topic needs brokers and a topic", ErrConfig)
	}
	cfg := newConfig(opts)
	cl, err := cfg.newClient(brokers)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var configs map[string]*string
	if cfg.minInsync > 0 {
		configs = map[string]*string{"min.insync.replicas": new(strconv.Itoa(cfg.minInsync))}
	}
	resp, err := adm.CreateTopic(ctx, partitions, replication, configs, topic)
	switch {
	case err == nil:
		cfg.logger.Info("created topic", "topic", topic, "partitions", resp.NumPartitions, "replication", resp.ReplicationFactor)
		warnSingleReplica(ctx, adm, topic, cfg)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		warnSingleReplica(ctx, adm, topic, cfg)
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

// warnSingleReplica logs a warning when topic has one replica per
// partition although the cluster has more brokers.
func warnSingleReplica(ctx context.Context, adm *kadm.Client, topic string, cfg config) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil || len(md.Brokers) < 2 {
		return
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return
	}
	for _, p := range td.Partitions {
		if len(p.Replicas) < 2 {
			cfg.logger.Warn("topic has a single replica on a cluster of several brokers: acknowledged events are lost with that broker; "+
				"recreate it with more replicas (MARQUEE_KAFKA_REPLICATION_FACTOR)", "topic", topic, "brokers", len(md.Brokers))
			return
		}
	}
}
