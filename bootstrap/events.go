package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/marquee-recsys/marquee/adapters/kafka"
)

// eventStream is the node's connection to its event stream: the brokers
// and the options every client of them needs.
type eventStream struct {
	brokers []string
	opts    []kafka.Option
}

// drainStall is how long a shutdown waits for the consumers to commit
// while they make no progress (their store is down, say).
const drainStall = 3 * time.Second

// startEvents starts the embedded broker (durable on MARQUEE_KAFKA_DATA_DIR)
// or makes sure the topics exist on the configured brokers, and returns
// the connection every client uses.
func (a *App) startEvents(ctx context.Context) (eventStream, error) {
	cfg := a.Config
	// franz-go narrates every group join at info level; keep its warnings.
	s := eventStream{brokers: cfg.KafkaBrokers, opts: []kafka.Option{
		kafka.WithLogger(slog.New(atLeast{a.Logger.Handler(), slog.LevelWarn})),
		kafka.WithSessionTimeout(cfg.KafkaSession), kafka.WithHeartbeatInterval(min(cfg.KafkaSession/3, 3*time.Second)),
		kafka.WithDeadLetterTopic(cfg.Kafka.DeadLetterTopic),
		kafka.WithDeadLetterObserver(func(reason string) { a.Metrics.EventsDeadLettered.WithLabelValues(reason).Inc() }),
	}}
	topics := []string{cfg.KafkaTopic, cfg.Kafka.DeadLetterTopic}
	if !cfg.Embedded() {
		s.opts = append(s.opts, kafka.WithSecurity(cfg.Kafka.Security), kafka.WithMinInsyncReplicas(cfg.Kafka.MinInsync))
		for _, topic := range topics {
			if err := kafka.EnsureTopic(ctx, s.brokers, topic, cfg.KafkaPartitions, cfg.Kafka.Replication, s.opts...); err != nil {
				// Not fatal: the topic may exist with ACLs that forbid
				// creating it, and a down cluster is reported by readiness.
				a.Logger.Warn("could not ensure the Kafka topic", "topic", topic, "err", err)
			}
		}
		return s, nil
	}
	eopts := []kafka.EmbeddedOption{kafka.WithEmbeddedTopics(topics...), kafka.WithEmbeddedPartitions(cfg.KafkaPartitions)}
	if dir := cfg.Kafka.DataDir; dir != "" {
		if err := claimDataDir(dir, storeIdentity(cfg)); err != nil {
			return s, err
		}
		eopts = append(eopts, kafka.WithEmbeddedDataDir(dir))
	}
	emb, err := kafka.StartEmbedded(eopts...)
	if err != nil {
		return s, fmt.Errorf("start embedded Kafka: %w", err)
	}
	a.embedded = emb
	a.onStop(func(context.Context) error { a.closeEmbedded(); return nil })
	s.brokers = emb.Addrs()
	s.opts = append(s.opts, emb.ClientOptions()...)
	a.Logger.Info("embedded Kafka broker started (kfake, loopback, SASL with credentials made at start)",
		"addr", s.brokers[0], "events", cfg.EventDurability())
	// The broker keeps what its consumers committed until it is trimmed
	// (in memory or on disk): drop it every minute (the soak test grew by
	// the whole event stream without it).
	tctx, stopTrim := context.WithCancel(context.Background())
	trimmed := make(chan struct{})
	go func() {
		defer close(trimmed)
		kafka.KeepTrimmed(tctx, s.brokers, cfg.KafkaTopic, cfg.KafkaGroup, time.Minute, a.Logger, s.opts...)
	}()
	a.onStop(func(context.Context) error { stopTrim(); <-trimmed; return nil })
	return s, nil
}

// drainEmbedded is the shutdown step between HTTP and the actors: the
// consumers store what the embedded broker holds, while they make
// progress. On disk what they do not store waits for the next start; in
// memory it is lost, and the log says how much.
func (a *App) drainEmbedded(s eventStream) func(context.Context) error {
	return func(ctx context.Context) error {
		cfg := a.Config
		left, err := kafka.WaitCommitted(ctx, s.brokers, cfg.KafkaTopic, cfg.KafkaGroup, drainStall, s.opts...)
		switch {
		case err == nil:
			return nil
		case cfg.Kafka.DataDir != "":
			a.Logger.Warn("stopping with accepted events not yet stored; they are in the embedded broker's log and are stored at the next start",
				"events", left, "data_dir", cfg.Kafka.DataDir, "reason", err)
			return nil
		default:
			return fmt.Errorf("drain the in-memory event stream: %d accepted events are lost: %w", left, err)
		}
	}
}

// storeIdentity names the stores the embedded broker's log belongs to,
// without credentials: its events must never be replayed into others.
func storeIdentity(cfg Config) string {
	if cfg.DatabaseURL == "" {
		return "memory"
	}
	pc, err := pgconn.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return "postgres (unparsed) schema=" + cfg.DatabaseSchema
	}
	return "postgres://" + pc.Host + ":" + strconv.Itoa(int(pc.Port)) + "/" + pc.Database + " schema=" + cfg.DatabaseSchema
}

// ownerFile records, in the broker's data directory, whose log it holds.
const ownerFile = "marquee-owner.json"

// claimDataDir refuses a data directory that holds the log of other
// stores (a restart pointed at another database would replay that one's
// unstored events into this one), and marks a new one as this node's.
func claimDataDir(dir, identity string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("MARQUEE_KAFKA_DATA_DIR: %w", err)
	}
	path := filepath.Join(dir, ownerFile)
	var owner struct {
		Stores string `json:"stores"`
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &owner); err != nil {
			return fmt.Errorf("MARQUEE_KAFKA_DATA_DIR: %s is not readable: %w", path, err)
		}
		if owner.Stores != identity {
			return fmt.Errorf("MARQUEE_KAFKA_DATA_DIR=%s holds the event log of other stores (%s), not of %s: "+
				"give this node a directory of its own", dir, owner.Stores, identity)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("MARQUEE_KAFKA_DATA_DIR: %w", err)
	}
	owner.Stores = identity
	b, _ = json.Marshal(owner)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("MARQUEE_KAFKA_DATA_DIR: %w", err)
	}
	return nil
}

// atLeast passes on the records of its handler's that are at least min.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(attrs), h.min}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.min}
}
