package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/marquee-recsys/marquee/domain"
)

// DB is an open, migrated Marquee database: a pgx connection pool and one
// value per port kept in PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	cfg    config
	schema string
	// vectorVersion is the installed pgvector version ("0.8.0").
	vectorVersion string

	catalog      *Catalog
	profiles     *ProfileStore
	interactions *InteractionLog
	popular      *PopularStore
	batch        *BatchStore
	vectors      *VectorIndex
	analytics    *Analytics
	models       *ModelStore
	tombstones   *Tombstones
}

// Open connects to the database at url (a postgres:// URL or key=value
// DSN), checks that it answers, applies pending migrations (under an
// advisory lock, so nodes may start together) and returns the adapters.
// An unreachable server gives an error wrapping ports.ErrUnavailable; a
// server without pgvector one wrapping ErrNoVector; a url that does not
// parse one wrapping domain.ErrInvalid that says why without quoting it.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// Never the string itself: it may hold a password.
		return nil, fmt.Errorf("postgres: database URL: %w: %s", domain.ErrInvalid, connStringReason(err))
	}
	params := poolCfg.ConnConfig.RuntimeParams
	params["search_path"] = searchPath(cfg.schema)
	if cfg.statementTimeout > 0 {
		params["statement_timeout"] = strconv.FormatInt(max(cfg.statementTimeout.Milliseconds(), 1), 10)
	}
	if params["application_name"] == "" {
		params["application_name"] = "marquee"
	}
	if cfg.maxConns > 0 {
		poolCfg.MaxConns = cfg.maxConns
	}
	poolCfg.AfterConnect = registerVector
	if err := migrateWithoutTimeout(ctx, poolCfg, cfg); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, wrap("connect", err)
	}
	db, err := open(ctx, pool, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// migrateWithoutTimeout applies the migrations on a pool of one
// connection of its own, without the statement timeout meant for serving
// (a migration may take longer, and on a loaded machine even creating the
// tables took more than a 50 ms timeout). The serving pool opens after, so
// its connections know the vector type the migration created.
func migrateWithoutTimeout(ctx context.Context, poolCfg *pgxpool.Config, cfg config) error {
	mc := poolCfg.Copy()
	delete(mc.ConnConfig.RuntimeParams, "statement_timeout")
	mc.MaxConns, mc.MinConns, mc.AfterConnect = 1, 0, nil
	pool, err := pgxpool.NewWithConfig(ctx, mc)
	if err != nil {
		return wrap("connect", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return wrap("connect", err)
	}
	return migrate(ctx, pool, cfg)
}

func open(ctx context.Context, pool *pgxpool.Pool, cfg config) (*DB, error) {
	if err := pool.Ping(ctx); err != nil {
		return nil, wrap("connect", err)
	}
	var version string
	err := pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: %w", ErrNoVector)
	case err != nil:
		return nil, wrap("read pgvector version", err)
	case !versionAtLeast(version, 0, 5):
		return nil, fmt.Errorf("postgres: pgvector %s has no HNSW index: %w", version, ErrNoVector)
	}
	db := &DB{pool: pool, cfg: cfg, schema: cfg.schema, vectorVersion: version}
	db.catalog = &Catalog{pool: pool, channel: "marquee.catalog." + cfg.schema}
	// Writes on the ingest path are group-committed, each kind with up to
	// a quarter of the pool (at least one) flushing at once, so that reads
	// always find connections.
	flushers := max(1, int(pool.Config().MaxConns)/4)
	db.profiles = newProfileStore(pool, flushers)
	db.interactions = newInteractionLog(pool, flushers)
	db.popular = newPopularStore(pool, cfg.popularity, flushers)
	db.batch = &BatchStore{pool: pool}
	db.vectors = newVectorIndex(pool, cfg, versionAtLeast(version, 0, 8))
	db.analytics = &Analytics{pool: pool}
	db.tombstones = &Tombstones{pool: pool}
	db.models = &ModelStore{pool: pool, channel: "marquee.models." + cfg.schema}
	cfg.logger.Info("postgres: ready", "schema", cfg.schema, "pgvector", version,
		"iterative_scan", db.vectors.iterative, "max_conns", pool.Config().MaxConns)
	return db, nil
}

// Close closes every connection of the pool.
func (db *DB) Close() { db.pool.Close() }

// Pool returns the connection pool, for health checks and tools.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Schema returns the schema holding Marquee's tables.
func (db *DB) Schema() string { return db.schema }

// VectorVersion returns the installed pgvector version.
func (db *DB) VectorVersion() string { return db.vectorVersion }

// Catalog returns the movie catalog (table movies).
func (db *DB) Catalog() *Catalog { return db.catalog }

// Profiles returns the user profile store (table user_profiles).
func (db *DB) Profiles() *ProfileStore { return db.profiles }

// Interactions returns the hot interaction log (table rt_user_interactions).
func (db *DB) Interactions() *InteractionLog { return db.interactions }

// Popular returns the popular-movies store (table popular_movies).
func (db *DB) Popular() *PopularStore { return db.popular }

// Batch returns the precomputed-list store (table batch_recommendations).
func (db *DB) Batch() *BatchStore { return db.batch }

// Vectors returns the pgvector HNSW item index.
func (db *DB) Vectors() *VectorIndex { return db.vectors }

// Analytics returns the served-list and feedback sink (tables
// recommendation_logs and recommendation_feedback).
func (db *DB) Analytics() *Analytics { return db.analytics }

// Tombstones returns the deleted users (table user_tombstones).
func (db *DB) Tombstones() *Tombstones { return db.tombstones }

// Models returns the model registry (tables models and model_factors).
func (db *DB) Models() *ModelStore { return db.models }

// searchPath puts the schema first and public, home of the vector type,
// after it.
func searchPath(schema string) string {
	if schema == "public" {
		return "public"
	}
	return pgx.Identifier{schema}.Sanitize() + ", public"
}

// registerVector teaches a new connection pgvector's binary format. Before
// the first migration created the extension there is nothing to register.
func registerVector(ctx context.Context, conn *pgx.Conn) error {
	var present bool
	if err := conn.QueryRow(ctx, `SELECT to_regtype('vector') IS NOT NULL`).Scan(&present); err != nil {
		return err
	}
	if !present {
		return nil
	}
	return pgxvec.RegisterTypes(ctx, conn)
}

// versionAtLeast compares a "major.minor.patch" extension version.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
