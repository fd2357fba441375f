package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultTopic is the interactions topic when configuration names none.
const DefaultTopic = "marquee.interactions"

// Embedded is an in-process Kafka broker (franz-go's kfake) listening on
// loopback. It speaks the real wire protocol, so the embedded mode and the
// tests run the same Publisher and Consumer as production; its data lives
// in memory and ends with it.
type Embedded struct {
	cluster *kfake.Cluster
	addrs   []string
}

// EmbeddedOption configures StartEmbedded.
type EmbeddedOption func(*embeddedConfig)

type embeddedConfig struct {
	port       int
	partitions int32
	topics     []string
	minSession time.Duration
	logger     *slog.Logger
}

// WithEmbeddedPort listens on 127.0.0.1:port (default 0: any free port).
func WithEmbeddedPort(port int) EmbeddedOption {
	return func(c *embeddedConfig) { c.port = port }
}

// WithEmbeddedTopics creates topics at start, replacing the default
// [DefaultTopic]; other topics can be created with EnsureTopic.
func WithEmbeddedTopics(topics ...string) EmbeddedOption {
	return func(c *embeddedConfig) { c.topics = topics }
}

// WithEmbeddedPartitions sets the partitions of the seeded topics and of
// topics created with broker defaults (default 8).
func WithEmbeddedPartitions(n int32) EmbeddedOption {
	return func(c *embeddedConfig) {
		if n > 0 {
			c.partitions = n
		}
	}
}

// WithEmbeddedMinSessionTimeout sets the shortest consumer session the
// broker accepts (default 100ms, far below Kafka's 6s, so that tests can
// detect dead members quickly).
func WithEmbeddedMinSessionTimeout(d time.Duration) EmbeddedOption {
	return func(c *embeddedConfig) {
		if d > 0 {
			c.minSession = d
		}
	}
}

// WithEmbeddedLogger sends the broker's own logs to l (default: discarded).
func WithEmbeddedLogger(l *slog.Logger) EmbeddedOption {
	return func(c *embeddedConfig) { c.logger = l }
}

// StartEmbedded starts a one-broker cluster on loopback with the topics
// created. Close stops it.
func StartEmbedded(opts ...EmbeddedOption) (*Embedded, error) {
	cfg := embeddedConfig{partitions: 8, topics: []string{DefaultTopic}, minSession: 100 * time.Millisecond}
	for _, opt := range opts {
		opt(&cfg)
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.port),
		// kfake already listens on 127.0.0.1; pinning it here keeps the
		// broker off other interfaces whatever a future kfake defaults to.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort("127.0.0.1", port))
		}),
		kfake.DefaultNumPartitions(int(cfg.partitions)),
		kfake.GroupMinSessionTimeout(cfg.minSession),
		kfake.ClusterID("marquee-embedded"),
	}
	if len(cfg.topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(cfg.partitions, cfg.topics...))
	}
	if cfg.logger != nil {
		kopts = append(kopts, kfake.WithLogger(embeddedLogger{cfg.logger.With("component", "kfake")}))
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: start embedded broker on port %d: %w", cfg.port, err)
	}
	return &Embedded{cluster: cluster, addrs: cluster.ListenAddrs()}, nil
}

// Addrs returns the broker addresses to give to NewPublisher and
// NewConsumer.
func (e *Embedded) Addrs() []string { return append([]string(nil), e.addrs...) }

// Close stops the broker and drops its data.
func (e *Embedded) Close() { e.cluster.Close() }

// embeddedLogger adapts slog to kfake's printf-style logger.
type embeddedLogger struct{ l *slog.Logger }

func (e embeddedLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	lvl := slog.LevelDebug
	switch level {
	case kfake.LogLevelError:
		lvl = slog.LevelError
	case kfake.LogLevelWarn:
		lvl = slog.LevelWarn
	case kfake.LogLevelInfo:
		lvl = slog.LevelInfo
	}
	if e.l.Enabled(context.Background(), lvl) {
		e.l.Log(context.Background(), lvl, fmt.Sprintf(format, args...))
	}
}
