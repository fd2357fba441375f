package postgres

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Option configures Open and Migrate.
type Option func(*config)

type config struct {
	logger           *slog.Logger
	schema           string
	statementTimeout time.Duration
	maxConns         int32
	popularity       domain.Popularity
	efSearch         int
	maxScanTuples    int
	hnswM            int
	hnswEfConstruct  int
}

func defaultConfig() config {
	return config{
		logger:          slog.New(slog.DiscardHandler),
		schema:          "public",
		popularity:      domain.DefaultPopularity(),
		efSearch:        100,
		maxScanTuples:   20000,
		hnswM:           32,
		hnswEfConstruct: 64,
	}
}

func newConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	cfg.hnswEfConstruct = max(cfg.hnswEfConstruct, 2*cfg.hnswM) // pgvector's rule
	if !schemaName.MatchString(cfg.schema) {
		return cfg, fmt.Errorf("postgres: schema %q: want a lower-case SQL identifier matching %s: %w",
			cfg.schema, schemaName, domain.ErrInvalid)
	}
	return cfg, nil
}

// schemaName keeps schema names plain, so they never need thinking about
// quoting in logs, URLs or psql.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// WithLogger sets where the adapter logs (migrations applied, vector
// sets built); the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithSchema puts Marquee's tables in schema (created if missing) instead
// of public. Each connection's search_path is "schema, public": the vector
// type lives with the extension in public. Tests use a schema per run.
func WithSchema(schema string) Option {
	return func(c *config) { c.schema = schema }
}

// WithStatementTimeout makes the server cancel any statement running
// longer than d (statement_timeout); the error wraps ports.ErrUnavailable.
// Zero, the default, keeps the server's setting.
func WithStatementTimeout(d time.Duration) Option {
	return func(c *config) { c.statementTimeout = d }
}

// WithMaxConns bounds the connection pool (default: pgx's, the greater of
// 4 and the number of CPUs).
func WithMaxConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxConns = int32(min(n, 1<<20))
		}
	}
}

// WithPopularity sets the half-life of the popular store's decay (default
// domain.DefaultPopularity). Keys stored under another half-life are not
// comparable, so it must not change over a database's life.
func WithPopularity(p domain.Popularity) Option {
	return func(c *config) {
		if p.HalfLife > 0 {
			c.popularity = p
		}
	}
}

// WithEfSearch sets hnsw.ef_search for nearest-neighbour queries (default
// 100): the size of the HNSW candidate list, trading latency for recall.
// A query with exclusions widens it by their number (up to pgvector's
// limit of 1000), since excluded candidates use up places in the list.
func WithEfSearch(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.efSearch = min(n, 1000)
		}
	}
}

// WithMaxScanTuples sets hnsw.max_scan_tuples (default 20000): how many
// index tuples an iterative scan may visit while exclusions filter out
// candidates, before the exact fallback takes over.
func WithMaxScanTuples(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxScanTuples = n
		}
	}
}

// WithHNSW sets the parameters of the HNSW indexes built for new vector
// sets: m links per node (default 32) and the build-time candidate list
// ef_construction (default 64, at least 2·m). Inner product on ALS factors
// is not a metric, and graphs with pgvector's default m = 16 reach only
// about 0.93 recall@10 at ef_search 100 on 64 factors; m = 32 reaches
// about 0.99 for twice the build time.
func WithHNSW(m, efConstruction int) Option {
	return func(c *config) {
		if m >= 2 && m <= 100 {
			c.hnswM = m
		}
		if efConstruction >= 4 && efConstruction <= 1000 {
			c.hnswEfConstruct = efConstruction
		}
	}
}
