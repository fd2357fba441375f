package redis

import (
	"log/slog"
	"time"
)

// Option configures a Cache. Settings given as options win over the same
// settings in the URL (dial_timeout, read_timeout, write_timeout,
// pool_size, max_retries query parameters), which win over the defaults.
type Option func(*config)

// config holds every setting of a Cache; zero means "not set" for the
// settings the URL may also carry.
type config struct {
	logger       *slog.Logger
	prefix       string
	genTTL       time.Duration
	dialTimeout  time.Duration
	readTimeout  time.Duration
	writeTimeout time.Duration
	poolSize     int
	maxRetries   int
	retriesSet   bool
}

// Defaults, sized for the serving walk: it gives the cache tier 250 ms, and
// a cache that is down must cost a small part of that.
const (
	DefaultPrefix        = "marquee"
	DefaultGenerationTTL = 7 * 24 * time.Hour
	DefaultDialTimeout   = 200 * time.Millisecond
	DefaultReadTimeout   = 50 * time.Millisecond
	DefaultWriteTimeout  = 50 * time.Millisecond
)

func newConfig(opts []Option) config {
	cfg := config{
		logger: slog.New(slog.DiscardHandler),
		prefix: DefaultPrefix,
		genTTL: DefaultGenerationTTL,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// WithLogger sends the adapter's logs (values it cannot decode) to l
// (default: discarded). go-redis itself logs through its own process-wide
// logger (goredis.SetLogger), which this package leaves alone.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l.With("component", "redis")
		}
	}
}

// WithPrefix sets the namespace of every key (default "marquee"). It must
// not contain '{' or '}', which would break the hash tags that keep a
// user's keys in one Redis Cluster slot; New rejects such a prefix.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix = p }
}

// WithGenerationTTL sets how long a user's generation key outlives the
// user's last Invalidate or Put (default 7 days). It only bounds memory:
// correctness never depends on it (see the package documentation). Values
// under a millisecond, Redis's resolution, are ignored.
func WithGenerationTTL(d time.Duration) Option {
	return func(c *config) {
		if d >= time.Millisecond {
			c.genTTL = d
		}
	}
}

// WithDialTimeout bounds establishing a connection (default 200 ms).
func WithDialTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.dialTimeout = d
		}
	}
}

// WithReadTimeout bounds waiting for a reply (default 50 ms).
func WithReadTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.readTimeout = d
		}
	}
}

// WithWriteTimeout bounds sending a command (default 50 ms).
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// WithPoolSize sets the maximum number of connections (default go-redis's,
// 10 per GOMAXPROCS).
func WithPoolSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.poolSize = n
		}
	}
}

// WithMaxRetries sets how often a command failing with a network error is
// retried (default 0: the walk falls through to the next tier instead, and
// go-redis already drops dead pooled connections before using them).
// Retrying is safe for every operation of this package: Get and Put are
// idempotent, and a repeated Invalidate only moves the generation further.
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.maxRetries, c.retriesSet = n, true
		}
	}
}
