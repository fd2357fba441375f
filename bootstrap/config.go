// Package bootstrap is Marquee's composition root: it reads the
// configuration, picks an adapter for every port (in-memory and embedded
// Kafka by default), starts the actor system and the HTTP server, and
// stops them in order.
package bootstrap

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
)

// Config is every setting, read once from MARQUEE_* environment variables.
type Config struct {
	HTTPAddr string // MARQUEE_HTTP_ADDR
	// PprofAddr, if set, serves net/http/pprof on its own listener
	// (MARQUEE_PPROF_ADDR; keep it on loopback: profiles show internals).
	PprofAddr string

	DatabaseURL    string // MARQUEE_DATABASE_URL; empty keeps PostgreSQL's ports in memory
	DatabaseSchema string // MARQUEE_DATABASE_SCHEMA: where Marquee's tables live (default public)
	RedisURL       string // MARQUEE_REDIS_URL; empty keeps the cache in memory
	RedisPrefix    string // MARQUEE_REDIS_PREFIX: prefix of every key (default marquee)
	EfSearch       int    // MARQUEE_PGVECTOR_EF_SEARCH: HNSW candidate list size of the vector tier

	KafkaBrokers    []string      // MARQUEE_KAFKA_BROKERS; empty starts the embedded broker
	KafkaTopic      string        // MARQUEE_KAFKA_TOPIC
	KafkaGroup      string        // MARQUEE_KAFKA_GROUP
	KafkaPartitions int32         // MARQUEE_KAFKA_PARTITIONS (embedded broker and topic creation)
	KafkaSession    time.Duration // MARQUEE_KAFKA_SESSION_TIMEOUT: how long the group waits for a silent member (a killed node) before reassigning its partitions
	Kafka           KafkaConfig   // the other MARQUEE_KAFKA_* settings: the embedded broker's data directory, the dead-letter topic, replication, TLS and SASL

	Demo      bool   // MARQUEE_DEMO: load the demo catalog, history and model at start
	DemoUsers int    // MARQUEE_DEMO_USERS
	Dataset   string // MARQUEE_DATASET: a MovieLens directory to import at start instead of the synthetic demo

	TrainCron         string        // MARQUEE_TRAIN_CRON: schedule of training ("off" disables)
	TrainTune         bool          // MARQUEE_TRAIN_TUNE: search hyperparameters, and keep the winner only if it beats the incumbent's
	TrainTuneTrials   int           // MARQUEE_TRAIN_TUNE_TRIALS: size of that search
	TrainTuneBudget   time.Duration // MARQUEE_TRAIN_TUNE_BUDGET: safety cap on its time (a cut search is reported)
	TrainShards       int           // MARQUEE_TRAIN_SHARDS: training shard actors (default GOMAXPROCS)
	TrainRemoteShards bool          // MARQUEE_TRAIN_REMOTE_SHARDS: clustered, solve training blocks on every member
	TrainSolver       string        // MARQUEE_TRAIN_SOLVER: cg or cholesky
	TrainFactors      int           // MARQUEE_TRAIN_FACTORS: model dimension when the search is off
	TrainIterations   int           // MARQUEE_TRAIN_ITERATIONS
	TrainGate         float64       // MARQUEE_TRAIN_GATE: least relative NDCG@10 gain of tuned over incumbent parameters, besides the noise
	// PositiveMinRating is MARQUEE_POSITIVE_MIN_RATING: ratings below it
	// are seen but no preference (they weigh 0; 0 means off). It is part
	// of Weights, which every door (HTTP, import, demo) weighs events with.
	PositiveMinRating float64

	ModelPoll           time.Duration // MARQUEE_MODEL_POLL: how often a node asks the registry which model serves, besides the promotions it is told of
	ModelKeepCandidates int           // MARQUEE_MODEL_KEEP_CANDIDATES: models never served that the registry keeps, beside the serving one and its rollback

	Weights             domain.Weights    // MARQUEE_WEIGHTS, e.g. "view=1,click=2,dislike=-4"
	Popularity          domain.Popularity // MARQUEE_POPULARITY_HALF_LIFE
	AcceptUnknownMovies bool              // MARQUEE_ACCEPT_UNKNOWN_MOVIES

	PassivateAfter  time.Duration // MARQUEE_PASSIVATE_AFTER
	CacheTTL        time.Duration // MARQUEE_CACHE_TTL
	TierTimeout     time.Duration // MARQUEE_TIER_TIMEOUT
	ShutdownTimeout time.Duration // MARQUEE_SHUTDOWN_TIMEOUT

	// Admission control of the API (admission): MARQUEE_HTTP_MAX_INFLIGHT
	// requests at once (0: off), MARQUEE_HTTP_QUEUE waiting at most, each
	// for MARQUEE_HTTP_QUEUE_WAIT at most; before it, the connection gate
	// (connGate): MARQUEE_HTTP_MAX_CONNS connections served at once (0:
	// off), MARQUEE_HTTP_CONN_QUEUE waiting unread at most, each for
	// MARQUEE_HTTP_CONN_WAIT at most (the wait is part of the latency of
	// the connection's first request, so it is short).
	MaxInflight int
	Queue       int
	QueueWait   time.Duration
	MaxConns    int
	ConnQueue   int
	ConnWait    time.Duration

	HotRetention time.Duration // MARQUEE_HOT_RETENTION: age at which interactions move to the archive
	ArchiveEvery time.Duration // MARQUEE_ARCHIVE_EVERY: period of archiving runs ("off": only on request)
	ArchiveChunk int           // MARQUEE_ARCHIVE_CHUNK: most rows per archive file
	ArchiveDir   string        // MARQUEE_ARCHIVE_DIR: directory of the archive when no S3 endpoint is set

	S3Endpoint  string // MARQUEE_S3_ENDPOINT: host:port of S3 or MinIO (https:// prefix or MARQUEE_S3_TLS for TLS)
	S3Bucket    string // MARQUEE_S3_BUCKET
	S3AccessKey string // MARQUEE_S3_ACCESS_KEY
	S3SecretKey string // MARQUEE_S3_SECRET_KEY (never logged)
	S3TLS       bool   // MARQUEE_S3_TLS
	S3Region    string // MARQUEE_S3_REGION
	S3Prefix    string // MARQUEE_S3_PREFIX: key prefix inside the bucket

	LogLevel  slog.Level // MARQUEE_LOG_LEVEL: debug, info, warn, error
	LogFormat string     // MARQUEE_LOG_FORMAT: text or json

	// APIKeys are the keys of MARQUEE_API_KEYS and MARQUEE_API_KEYS_FILE,
	// their secrets kept only as hashes. None: the API is open, which only
	// the embedded mode or MARQUEE_INSECURE_DEV allows (CheckAccess).
	APIKeys     []auth.Key
	RateLimit   auth.Limit // MARQUEE_RATE_LIMIT and MARQUEE_RATE_BURST: per key without its own, and per client address
	InsecureDev bool       // MARQUEE_INSECURE_DEV: serve a non-embedded configuration without keys

	Cluster ClusterConfig // MARQUEE_CLUSTER_*: membership of a Proto.Actor cluster (empty provider: a single node)
}

// DefaultRateLimit is the rate limit of a key that has none of its own,
// and of a client address: 1,000 requests a second, bursts of 2,000.
var DefaultRateLimit = auth.Limit{Rate: 1000, Burst: 2000}

// Embedded reports whether Marquee runs its own Kafka broker in process.
func (c Config) Embedded() bool { return len(c.KafkaBrokers) == 0 }

// LoadConfig reads the configuration from getenv (os.Getenv in main) and
// validates it. Every problem is reported, each naming its variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := envReader{get: getenv}
	c := Config{
		HTTPAddr:            r.str("MARQUEE_HTTP_ADDR", "127.0.0.1:8080"),
		PprofAddr:           r.str("MARQUEE_PPROF_ADDR", ""),
		DatabaseURL:         r.str("MARQUEE_DATABASE_URL", ""),
		DatabaseSchema:      r.str("MARQUEE_DATABASE_SCHEMA", "public"),
		RedisURL:            r.str("MARQUEE_REDIS_URL", ""),
		RedisPrefix:         r.str("MARQUEE_REDIS_PREFIX", "marquee"),
		Dataset:             r.str("MARQUEE_DATASET", ""),
		TrainCron:           r.str("MARQUEE_TRAIN_CRON", "0 2 * * *"),
		TrainTuneTrials:     r.integer("MARQUEE_TRAIN_TUNE_TRIALS", 20, 1, 1000),
		TrainTuneBudget:     r.duration("MARQUEE_TRAIN_TUNE_BUDGET", 2*time.Hour),
		TrainShards:         r.integer("MARQUEE_TRAIN_SHARDS", 0, 0, 1024),
		TrainSolver:         r.str("MARQUEE_TRAIN_SOLVER", als.SolverCG),
		EfSearch:            r.integer("MARQUEE_PGVECTOR_EF_SEARCH", 100, 1, 1000),
		TrainFactors:        r.integer("MARQUEE_TRAIN_FACTORS", 64, 1, 1024),
		TrainIterations:     r.integer("MARQUEE_TRAIN_ITERATIONS", 15, 1, 1000),
		ModelPoll:           r.duration("MARQUEE_MODEL_POLL", 2*time.Second),
		ModelKeepCandidates: r.integer("MARQUEE_MODEL_KEEP_CANDIDATES", training.DefaultKeepCandidates, 0, 1000),
		KafkaBrokers:        r.list("MARQUEE_KAFKA_BROKERS"),
		KafkaTopic:          r.str("MARQUEE_KAFKA_TOPIC", kafka.DefaultTopic),
		KafkaGroup:          r.str("MARQUEE_KAFKA_GROUP", "marquee"),
		KafkaPartitions:     int32(r.integer("MARQUEE_KAFKA_PARTITIONS", 8, 1, 10000)),
		KafkaSession:        r.duration("MARQUEE_KAFKA_SESSION_TIMEOUT", 45*time.Second),
		DemoUsers:           r.integer("MARQUEE_DEMO_USERS", 2000, 1, 1_000_000),
		Popularity:          domain.Popularity{HalfLife: r.duration("MARQUEE_POPULARITY_HALF_LIFE", 7*24*time.Hour)},
		PassivateAfter:      r.duration("MARQUEE_PASSIVATE_AFTER", 10*time.Minute),
		CacheTTL:            r.duration("MARQUEE_CACHE_TTL", 10*time.Minute),
		TierTimeout:         r.duration("MARQUEE_TIER_TIMEOUT", 250*time.Millisecond),
		ShutdownTimeout:     r.duration("MARQUEE_SHUTDOWN_TIMEOUT", 30*time.Second),
		LogFormat:           r.str("MARQUEE_LOG_FORMAT", "text"),
		HotRetention:        r.duration("MARQUEE_HOT_RETENTION", 48*time.Hour),
		ArchiveChunk:        r.integer("MARQUEE_ARCHIVE_CHUNK", 100_000, 1, 10_000_000),
		ArchiveDir:          r.str("MARQUEE_ARCHIVE_DIR", ""),
		S3Endpoint:          r.str("MARQUEE_S3_ENDPOINT", ""),
		S3Bucket:            r.str("MARQUEE_S3_BUCKET", "marquee"),
		S3AccessKey:         r.str("MARQUEE_S3_ACCESS_KEY", ""),
		S3SecretKey:         r.str("MARQUEE_S3_SECRET_KEY", ""),
		S3Region:            r.str("MARQUEE_S3_REGION", ""),
		S3Prefix:            r.str("MARQUEE_S3_PREFIX", ""),
	}
	c.MaxInflight = r.integerOrOff("MARQUEE_HTTP_MAX_INFLIGHT", 64, 1, 1_000_000)
	c.Queue = r.integer("MARQUEE_HTTP_QUEUE", 4*max(c.MaxInflight, 1), 0, 10_000_000)
	c.QueueWait = r.duration("MARQUEE_HTTP_QUEUE_WAIT", 100*time.Millisecond)
	// The connection gate is off by default: it bounds the tail for
	// clients that honour Retry-After, but clients that reconnect at once
	// turn its refusals into a storm of connections (BENCHMARKS.md "Over
	// capacity").
	c.MaxConns = r.integerOrOff("MARQUEE_HTTP_MAX_CONNS", 0, 1, 1_000_000)
	c.ConnQueue = r.integer("MARQUEE_HTTP_CONN_QUEUE", max(c.MaxConns, 1), 0, 10_000_000)
	c.ConnWait = r.duration("MARQUEE_HTTP_CONN_WAIT", 10*time.Millisecond)
	c.AcceptUnknownMovies = r.boolean("MARQUEE_ACCEPT_UNKNOWN_MOVIES", false)
	c.TrainTune = r.boolean("MARQUEE_TRAIN_TUNE", true)
	c.TrainRemoteShards = r.boolean("MARQUEE_TRAIN_REMOTE_SHARDS", false)
	c.S3TLS = r.boolean("MARQUEE_S3_TLS", false)
	if v := strings.TrimSpace(getenv("MARQUEE_ARCHIVE_EVERY")); v == "off" {
		c.ArchiveEvery = -1
	} else {
		c.ArchiveEvery = r.duration("MARQUEE_ARCHIVE_EVERY", time.Hour)
	}
	c.TrainGate = r.float("MARQUEE_TRAIN_GATE", 0.02, 0, 1)
	if c.TrainSolver != als.SolverCG && c.TrainSolver != als.SolverCholesky {
		r.fail("MARQUEE_TRAIN_SOLVER", "want cg or cholesky")
	}
	if c.TrainCron != "off" {
		if _, err := actors.ParseSchedule(c.TrainCron); err != nil {
			r.fail("MARQUEE_TRAIN_CRON", err.Error()+` (want a cron expression such as "0 2 * * *", or "off")`)
		}
	}
	// The demo data is for the embedded mode; with real services it would
	// write synthetic users into a real database.
	c.Demo = r.boolean("MARQUEE_DEMO", c.Embedded() && c.DatabaseURL == "" && c.Dataset == "")
	if v := strings.TrimSpace(getenv("MARQUEE_POSITIVE_MIN_RATING")); v != "off" {
		c.PositiveMinRating = r.float("MARQUEE_POSITIVE_MIN_RATING", 0, domain.MinRating, domain.MaxRating)
	}
	if w, err := domain.ParseWeights(getenv("MARQUEE_WEIGHTS")); err != nil {
		r.fail("MARQUEE_WEIGHTS", err.Error())
	} else {
		c.Weights = w
		c.Weights.PositiveMinRating = c.PositiveMinRating
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.str("MARQUEE_LOG_LEVEL", "info"))); err != nil {
		r.fail("MARQUEE_LOG_LEVEL", "want debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		r.fail("MARQUEE_LOG_FORMAT", "want text or json")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		r.fail("MARQUEE_HTTP_ADDR", "want host:port, e.g. 127.0.0.1:8080")
	}
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			r.fail("MARQUEE_KAFKA_BROKERS", fmt.Sprintf("broker %q: want host:port", b))
		}
	}
	if c.Popularity.HalfLife < time.Minute {
		r.fail("MARQUEE_POPULARITY_HALF_LIFE", "must be at least 1m")
	}
	// A URL that does not parse would otherwise stop Marquee later with an
	// error that quotes it whole, password included.
	for name, v := range map[string]string{"MARQUEE_DATABASE_URL": c.DatabaseURL, "MARQUEE_REDIS_URL": c.RedisURL} {
		if !strings.Contains(v, "://") {
			continue // empty, or PostgreSQL's key=value form
		}
		if _, err := url.Parse(v); err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the reason, without the URL
			}
			r.fail(name, "not a valid URL: "+err.Error())
		}
	}
	c.Kafka = r.readKafka(&c)
	c.APIKeys = r.apiKeys()
	c.RateLimit = r.rateLimit()
	c.InsecureDev = r.boolean("MARQUEE_INSECURE_DEV", false)
	c.Cluster = r.readCluster(c)
	return c, errors.Join(r.errs...)
}

// Open reports whether the API is served without keys.
func (c Config) Open() bool { return len(c.APIKeys) == 0 }

// CheckAccess refuses to serve an open API anywhere but in the embedded
// mode (no database, no Kafka brokers: everything in one process, on a
// developer's machine), unless MARQUEE_INSECURE_DEV says this is a
// development setup. Only serving needs this; the other commands use no
// keys.
func (c Config) CheckAccess() error {
	if !c.Open() || c.InsecureDev {
		return nil
	}
	var set []string
	if c.DatabaseURL != "" {
		set = append(set, "MARQUEE_DATABASE_URL")
	}
	if !c.Embedded() {
		set = append(set, "MARQUEE_KAFKA_BROKERS")
	}
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("MARQUEE_API_KEYS: no API keys are configured, and %s make this a real deployment, "+
		"which does not serve an open API: set MARQUEE_API_KEYS or MARQUEE_API_KEYS_FILE (README, Security), "+
		"or MARQUEE_INSECURE_DEV=true if this is a development setup", strings.Join(set, " and "))
}

// envReader parses variables and collects errors instead of stopping at
// the first, so a misconfigured deployment is fixed in one round.
type envReader struct {
	get  func(string) string
	errs []error
}

func (r *envReader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, msg))
}

func (r *envReader) str(name, def string) string {
	if v := strings.TrimSpace(r.get(name)); v != "" {
		return v
	}
	return def
}

func (r *envReader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.get(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *envReader) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("want an integer from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

// integerOrOff is integer, with "off" for 0.
func (r *envReader) integerOrOff(name string, def, lo, hi int) int {
	if strings.TrimSpace(r.get(name)) == "off" {
		return 0
	}
	return r.integer(name, def, lo, hi)
}

func (r *envReader) float(name string, def, lo, hi float64) float64 {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		r.fail(name, fmt.Sprintf("want a number from %g to %g, got %q", lo, hi, v))
		return def
	}
	return f
}

func (r *envReader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Sprintf("want a positive duration such as 30s or 10m, got %q", v))
		return def
	}
	return d
}

func (r *envReader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("want true or false, got %q", v))
		return def
	}
	return b
}

// apiKeys reads MARQUEE_API_KEYS and the file MARQUEE_API_KEYS_FILE names
// (both may be set; a name or a secret may not appear twice). Errors come
// from auth, which never quotes a secret.
func (r *envReader) apiKeys() []auth.Key {
	var keys []auth.Key
	ok := true
	if v := strings.TrimSpace(r.get("MARQUEE_API_KEYS")); v != "" {
		k, err := auth.ParseKeys(v)
		r.failEach("MARQUEE_API_KEYS", err)
		ok = ok && err == nil
		keys = append(keys, k...)
	}
	if path := strings.TrimSpace(r.get("MARQUEE_API_KEYS_FILE")); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			r.fail("MARQUEE_API_KEYS_FILE", err.Error())
			return nil
		}
		k, err := auth.ParseKeysFile(data)
		r.failEach("MARQUEE_API_KEYS_FILE "+path, err)
		ok = ok && err == nil
		keys = append(keys, k...)
	}
	if !ok {
		return nil
	}
	if _, err := auth.NewKeyring(keys...); err != nil {
		r.failEach("MARQUEE_API_KEYS and MARQUEE_API_KEYS_FILE", err)
		return nil
	}
	return keys
}

// rateLimit reads MARQUEE_RATE_LIMIT (requests a second, or off) and
// MARQUEE_RATE_BURST (default twice the rate).
func (r *envReader) rateLimit() auth.Limit {
	l := DefaultRateLimit
	if v := strings.TrimSpace(r.get("MARQUEE_RATE_LIMIT")); v != "" {
		parsed, err := auth.ParseLimit(v)
		if err != nil || strings.Contains(v, "/") {
			r.fail("MARQUEE_RATE_LIMIT", fmt.Sprintf("want off or a positive number of requests per second (the burst is MARQUEE_RATE_BURST), got %q", v))
		} else {
			l = parsed
		}
	}
	if strings.TrimSpace(r.get("MARQUEE_RATE_BURST")) != "" {
		if l.Unlimited() {
			r.fail("MARQUEE_RATE_BURST", "set, but MARQUEE_RATE_LIMIT is off")
			return l
		}
		l.Burst = r.integer("MARQUEE_RATE_BURST", l.Burst, 1, 1_000_000_000)
	}
	return l
}

// failEach reports every error joined in err under name.
func (r *envReader) failEach(name string, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			r.failEach(name, e)
		}
		return
	}
	r.fail(name, err.Error())
}

// NewLogger builds the process logger from the configuration. Warnings
// and errors repeated during an outage (one per request, say) are
// rate-limited: one line per message and dependency every 10 s, the next
// one counting those suppressed (telemetry.Throttle).
func NewLogger(c Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return slog.New(telemetry.NewThrottle(h, telemetry.DefaultThrottleInterval))
}
