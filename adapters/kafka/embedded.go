package kafka

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultTopic is the interactions topic when configuration names none.
const DefaultTopic = "marquee.interactions"

// Embedded is an in-process Kafka broker (franz-go's kfake) listening on
// loopback. It speaks the real wire protocol, so the embedded mode and the
// tests run the same Publisher and Consumer as production.
//
// It requires SASL (SCRAM-SHA-256) with a user and password generated at
// every start and known only to this process (Security), so another local
// process can neither read the event stream nor produce to it.
//
// Without WithEmbeddedDataDir its log lives in memory and ends with the
// process. With it, the log, the consumer groups' offsets and the topics
// live in that directory, every produce is written and fsynced there
// before the broker acknowledges it, and a broker started again on the
// directory (after a crash too) resumes where the last one stopped.
type Embedded struct {
	cluster  *kfake.Cluster
	addrs    []string
	security Security
	dataDir  string
	syncer   *logSyncer // nil in memory
}

// EmbeddedOption configures StartEmbedded.
type EmbeddedOption func(*embeddedConfig)

type embeddedConfig struct {
	port       int
	partitions int32
	topics     []string
	minSession time.Duration
	logger     *slog.Logger
	dataDir    string
}

// WithEmbeddedDataDir keeps the broker's log in dir (created with mode
// 0700 if missing: the events in it are users' data); a Publisher built
// with the broker's ClientOptions returns only once what it produced is
// fsynced there. A broker started on a directory a previous one used
// resumes its topics, records and committed offsets.
func WithEmbeddedDataDir(dir string) EmbeddedOption {
	return func(c *embeddedConfig) { c.dataDir = dir }
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

// embeddedUser is the SASL user of the embedded broker; its password is
// generated at every start.
const embeddedUser = "marquee"

// StartEmbedded starts a one-broker cluster on loopback with the topics
// created (on a data directory that has them already, they are kept as
// they are). Close stops it.
func StartEmbedded(opts ...EmbeddedOption) (*Embedded, error) {
	cfg := embeddedConfig{partitions: 8, topics: []string{DefaultTopic}, minSession: 100 * time.Millisecond}
	for _, opt := range opts {
		opt(&cfg)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("kafka: embedded broker credentials: %w", err)
	}
	sec := Security{SASLMechanism: SASLScramSHA256, SASLUser: embeddedUser, SASLPassword: base64.RawURLEncoding.EncodeToString(secret)}
	kopts := []kfake.Opt{
		kfake.EnableSASL(),
		kfake.Superuser(SASLScramSHA256, sec.SASLUser, sec.SASLPassword),
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
	if cfg.dataDir != "" {
		if err := prepareDataDir(cfg.dataDir); err != nil {
			return nil, err
		}
		kopts = append(kopts, kfake.DataDir(cfg.dataDir))
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: start embedded broker on port %d: %w", cfg.port, err)
	}
	e := &Embedded{cluster: cluster, addrs: cluster.ListenAddrs(), security: sec, dataDir: cfg.dataDir}
	if cfg.dataDir != "" {
		if err := syncTree(cfg.dataDir); err != nil {
			cluster.Close()
			return nil, fmt.Errorf("kafka: embedded broker data directory: %w", err)
		}
		e.syncer = newLogSyncer(cfg.dataDir)
	}
	return e, nil
}

// prepareDataDir creates dir (0700) if needed and removes the SASL users
// a previous broker saved there: kfake reloads them over the ones it is
// started with, and this start's password is a new one.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("kafka: embedded broker data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("kafka: embedded broker data directory: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, "sasl.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kafka: embedded broker data directory: %w", err)
	}
	return nil
}

// Addrs returns the broker addresses to give to NewPublisher and
// NewConsumer.
func (e *Embedded) Addrs() []string { return append([]string(nil), e.addrs...) }

// Security returns what a client needs to connect (WithSecurity): the
// SASL user and password generated when the broker started.
func (e *Embedded) Security() Security { return e.security }

// ClientOptions are the options of this broker's clients: its
// credentials and, on disk, the fsync of what a Publisher (or a Consumer's
// dead-letter producer) wrote, before it reports success.
func (e *Embedded) ClientOptions() []Option {
	opts := []Option{WithSecurity(e.security)}
	if e.syncer != nil {
		opts = append(opts, func(c *config) { c.logSync = e.syncer.sync })
	}
	return opts
}

// Durable reports whether the broker keeps its log on disk.
func (e *Embedded) Durable() bool { return e.dataDir != "" }

// Close stops the broker: in memory its data is dropped; on disk its
// state is saved for the next start.
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
