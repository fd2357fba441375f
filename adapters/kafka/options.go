package kafka

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Option configures a Publisher or a Consumer. Options that only concern
// one of them are ignored by the other, so one option list can serve both.
type Option func(*config)

// config holds every setting of the package's clients.
type config struct {
	logger          *slog.Logger
	clientID        string
	deliveryTimeout time.Duration
	linger          time.Duration
	maxPollRecords  int
	sessionTimeout  time.Duration
	rebalance       time.Duration
	heartbeat       time.Duration
	minBackoff      time.Duration
	maxBackoff      time.Duration
	commitTimeout   time.Duration
	onAssigned      func(topic string, partitions []int32)
	onRevoked       func(topic string, partitions []int32)
	onLag           func(topic string, partition int32, lag int64)
	handleAttempts  int
	fetchMaxWait    time.Duration
	deadLetterTopic string
	onDeadLetter    func(reason string)
	security        Security
	minInsync       int
	// logSync, set by Embedded.ClientOptions on a durable broker, makes
	// produced records durable: called with the partitions written, after
	// the broker acknowledged them.
	logSync func(topic string, partitions []int32) error
	extra   []kgo.Opt
}

// defaultConfig returns production settings: kgo's group timeouts, which
// suit a real cluster, and a delivery timeout short enough for an HTTP
// request to fail with 503 rather than time out.
func defaultConfig() config {
	return config{
		logger:          slog.New(slog.DiscardHandler),
		clientID:        "marquee",
		deliveryTimeout: 5 * time.Second,
		linger:          2 * time.Millisecond,
		maxPollRecords:  20000,
		sessionTimeout:  45 * time.Second,
		rebalance:       60 * time.Second,
		heartbeat:       3 * time.Second,
		minBackoff:      50 * time.Millisecond,
		maxBackoff:      5 * time.Second,
		commitTimeout:   10 * time.Second,
		handleAttempts:  3,
		fetchMaxWait:    time.Second,
	}
}

func newConfig(opts []Option) config {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// baseOpts are the kgo options every client shares: the brokers, the
// identity and the security settings, then the raw extras.
func (c *config) baseOpts(brokers []string) ([]kgo.Opt, error) {
	sec, err := c.security.KgoOptions()
	if err != nil {
		return nil, err
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(c.clientID),
		kgo.WithLogger(kslog.New(c.logger)),
	}, sec...)
	return append(opts, c.extra...), nil
}

// newClient builds a kgo client from the shared options and extra ones,
// failing with ErrConfig.
func (c *config) newClient(brokers []string, extra ...kgo.Opt) (*kgo.Client, error) {
	base, err := c.baseOpts(brokers)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(extra, base...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return cl, nil
}

// WithLogger sends the adapter's and franz-go's logs to l (default:
// discarded). franz-go logs through plugin/kslog at the level l enables.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l.With("component", "kafka")
		}
	}
}

// WithClientID sets the client id brokers see in their logs and quotas
// (default "marquee").
func WithClientID(id string) Option {
	return func(c *config) {
		if id != "" {
			c.clientID = id
		}
	}
}

// WithDeliveryTimeout bounds how long Publish waits for brokers before it
// fails with ports.ErrUnavailable (default 5s). It maps to
// kgo.RecordDeliveryTimeout.
func WithDeliveryTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.deliveryTimeout = d
		}
	}
}

// WithLinger sets how long the producer waits to batch records of
// concurrent Publish calls (default 2ms): it adds to every request's
// latency, so it stays short.
func WithLinger(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.linger = d
		}
	}
}

// WithMaxPollRecords bounds the batch a Consumer hands to its handler
// (default 20,000), which bounds the work a failed batch repeats. Polls
// return what is buffered, so batches reach the bound only with a
// backlog, and then bigger batches drain it faster: each user's events
// of a batch are stored and folded in together (with 400 users in the
// stream, 5,000 gave 16.9K events/s end to end with PostgreSQL, 20,000
// gave 21.7K; BENCHMARKS.md).
func WithMaxPollRecords(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxPollRecords = n
		}
	}
}

// WithSessionTimeout sets how long the group coordinator waits for a silent
// member before reassigning its partitions (default 45s). Tests lower it
// together with WithHeartbeatInterval; it must lie within the broker's
// group.min/max.session.timeout.ms.
func WithSessionTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.sessionTimeout = d
		}
	}
}

// WithRebalanceTimeout sets how long members may take to finish their
// batch and commit once a rebalance began (default 60s). A handler that is
// still retrying when it expires loses its partitions; the batch is then
// delivered again to their next owner.
func WithRebalanceTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.rebalance = d
		}
	}
}

// WithHeartbeatInterval sets how often a member tells the coordinator it is
// alive (default 3s, at most a third of the session timeout).
func WithHeartbeatInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.heartbeat = d
		}
	}
}

// WithRetryBackoff sets the wait before events that were not stored are
// handed again: first initial, doubling up to limit (default 50ms to 5s)
// while they keep failing, between the attempts in place and then while
// their partition is held back, so that a store that is down is not
// hammered.
func WithRetryBackoff(initial, limit time.Duration) Option {
	return func(c *config) {
		if initial > 0 && limit >= initial {
			c.minBackoff, c.maxBackoff = initial, limit
		}
	}
}

// WithHandleAttempts sets how many times in a row a Consumer hands a
// batch's failed events to the handler before it commits what is stored
// and holds back the failing partitions (default 3). Fewer attempts in
// place mean shorter batches, which a rebalance waits for; the held
// partitions are retried anyway.
func WithHandleAttempts(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.handleAttempts = n
		}
	}
}

// WithDeadLetterTopic names the topic where a Consumer moves the records
// it cannot decode or that are not valid interactions (default: the
// topic's name + ".dlq"). It must exist, or be creatable by the broker;
// EnsureTopic creates it.
func WithDeadLetterTopic(topic string) Option {
	return func(c *config) { c.deadLetterTopic = topic }
}

// WithDeadLetterObserver calls fn for every record moved to the
// dead-letter topic, with its reason (ReasonUndecodable, ReasonInvalid),
// so that a metric can count them.
func WithDeadLetterObserver(fn func(reason string)) Option {
	return func(c *config) { c.onDeadLetter = fn }
}

// WithMinInsyncReplicas makes EnsureTopic create topics with
// min.insync.replicas set to n (default 0: the broker's default). With
// acks=all, a produce then fails rather than being acknowledged by fewer
// than n replicas.
func WithMinInsyncReplicas(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.minInsync = n
		}
	}
}

// WithPartitionsAssigned calls fn, once per topic, when the group gives
// this consumer partitions, so that an actor can observe its share of the
// stream. fn must be fast: it runs inside the rebalance.
func WithPartitionsAssigned(fn func(topic string, partitions []int32)) Option {
	return func(c *config) { c.onAssigned = fn }
}

// WithLagObserver calls fn after every poll with, for each partition that
// returned records, how many records remain after the last one fetched
// (the high watermark minus the next offset): the consumer's lag.
func WithLagObserver(fn func(topic string, partition int32, lag int64)) Option {
	return func(c *config) { c.onLag = fn }
}

// WithPartitionsRevoked calls fn, once per topic, when partitions are taken
// from this consumer, by a rebalance, by leaving the group or by losing the
// session. Every handled offset of those partitions has been committed by
// then unless a commit failed (which is logged). fn must be fast.
func WithPartitionsRevoked(fn func(topic string, partitions []int32)) Option {
	return func(c *config) { c.onRevoked = fn }
}

// WithClientOptions appends raw franz-go options, for what this package
// does not model (TLS, SASL, rack awareness). They are applied after the
// package's own, so they win where they overlap.
func WithClientOptions(opts ...kgo.Opt) Option {
	return func(c *config) { c.extra = append(c.extra, opts...) }
}
