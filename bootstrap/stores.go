package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/adapters/redis"
	"github.com/marquee-recsys/marquee/adapters/s3"
	"github.com/marquee-recsys/marquee/openapi"
	"github.com/marquee-recsys/marquee/ports"
)

// Stores are the adapters chosen for each port.
type Stores struct {
	Log       ports.InteractionLog
	Profiles  ports.ProfileStore
	Cache     ports.RecommendationCache
	Vectors   ports.VectorIndex
	Batch     ports.BatchStore
	Popular   ports.PopularStore
	Catalog   ports.Catalog
	Analytics ports.AnalyticsSink
	Reports   ports.AnalyticsQuery // the same store as Analytics, read side
	Models    ports.ModelStore
	// Tombstones are the deleted users (the right to be forgotten).
	Tombstones ports.Tombstones
	Archive    ports.Archive
	// Ledger is the archiving side of the interaction log (its adapter
	// keeps the manifest and the archived totals).
	Ledger ports.ArchiveLedger
	// OrphanCleanup is false when the archive outlives the manifest (an
	// in-memory ledger over a persistent directory): then files the
	// manifest does not list are a previous process's, not orphans.
	OrphanCleanup bool

	// Checks ping the external services the stores use (none when all are
	// in memory), for readiness.
	Checks []openapi.Check
}

// OpenStores picks an adapter for every port: PostgreSQL (with pgvector)
// when MARQUEE_DATABASE_URL is set, Redis for the cache when
// MARQUEE_REDIS_URL is set, memory otherwise. close releases them.
func OpenStores(ctx context.Context, cfg Config, logger *slog.Logger) (s Stores, close func(), err error) {
	s = memoryStores(cfg)
	var closers []func()
	close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.WithLogger(logger), postgres.WithPopularity(cfg.Popularity),
			postgres.WithSchema(cfg.DatabaseSchema), postgres.WithEfSearch(cfg.EfSearch))
		if err != nil {
			return Stores{}, func() {}, fmt.Errorf("MARQUEE_DATABASE_URL: %w", err)
		}
		closers = append(closers, db.Close)
		s.Log, s.Profiles, s.Vectors, s.Batch = db.Interactions(), db.Profiles(), db.Vectors(), db.Batch()
		s.Popular, s.Catalog, s.Analytics, s.Reports, s.Models = db.Popular(), db.Catalog(), db.Analytics(), db.Analytics(), db.Models()
		s.Tombstones = db.Tombstones()
		// Without the database nothing is stored: not ready.
		s.Checks = append(s.Checks, openapi.Check{Name: "database", Required: true, Ping: db.Pool().Ping})
		logger.Info("using PostgreSQL", "schema", db.Schema(), "pgvector", db.VectorVersion())
	}
	if cfg.RedisURL != "" {
		c, err := redis.New(cfg.RedisURL, redis.WithLogger(logger), redis.WithPrefix(cfg.RedisPrefix))
		if err != nil {
			close()
			return Stores{}, func() {}, fmt.Errorf("MARQUEE_REDIS_URL: %w", err)
		}
		closers = append(closers, func() { _ = c.Close() })
		s.Cache = c
		// Redis down is not "not ready": the walk skips the cache tier.
		s.Checks = append(s.Checks, openapi.Check{Name: "cache", Ping: c.Ping})
		logger.Info("using Redis for the recommendation cache")
	}
	archive, archiveCheck, closeArchive, err := openArchive(cfg, logger)
	if err != nil {
		close()
		return Stores{}, func() {}, err
	}
	closers = append(closers, closeArchive)
	s.Archive = archive
	s.Ledger, _ = s.Log.(ports.ArchiveLedger)
	s.OrphanCleanup = cfg.DatabaseURL != "" || (cfg.ArchiveDir == "" && cfg.S3Endpoint == "")
	if archiveCheck != nil {
		// MinIO down is not "not ready" either: the archiver retries and the
		// hot table keeps the rows meanwhile.
		s.Checks = append(s.Checks, *archiveCheck)
	}
	return s, close, nil
}

// openArchive returns the Parquet archive: on S3/MinIO when
// MARQUEE_S3_ENDPOINT is set, else in MARQUEE_ARCHIVE_DIR, else in a
// temporary directory that lives as long as the process (the embedded
// mode's in-memory stores do not outlive it either). On S3 it also
// returns the readiness check of the bucket.
func openArchive(cfg Config, logger *slog.Logger) (ports.Archive, *openapi.Check, func(), error) {
	if cfg.S3Endpoint != "" {
		opts := []s3.Option{s3.WithTLS(cfg.S3TLS), s3.WithLogger(logger)}
		if cfg.S3AccessKey != "" {
			opts = append(opts, s3.WithCredentials(cfg.S3AccessKey, cfg.S3SecretKey))
		}
		if cfg.S3Region != "" {
			opts = append(opts, s3.WithRegion(cfg.S3Region))
		}
		store, err := s3.New(cfg.S3Endpoint, cfg.S3Bucket, opts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("MARQUEE_S3_ENDPOINT: %w", err)
		}
		logger.Info("archiving to S3", "endpoint", cfg.S3Endpoint, "bucket", cfg.S3Bucket)
		return parquet.New(store, parquet.WithPrefix(cfg.S3Prefix), parquet.WithLogger(logger)),
			&openapi.Check{Name: "archive", Ping: store.Ping}, func() {}, nil
	}
	dir, cleanup := cfg.ArchiveDir, func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "marquee-archive-")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("archive directory: %w", err)
		}
		dir, cleanup = tmp, func() { _ = os.RemoveAll(tmp) }
	}
	store, err := localfs.New(dir)
	if err != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("MARQUEE_ARCHIVE_DIR: %w", err)
	}
	return parquet.New(store, parquet.WithLogger(logger)), nil, cleanup, nil
}

// memoryStores returns the in-memory adapter of every port.
func memoryStores(cfg Config) Stores {
	a, models := memory.NewAnalytics(), memory.NewModelStore()
	popular := memory.NewPopularStore(cfg.Popularity)
	catalog := memory.NewCatalog().UsePopularity(popular)
	return Stores{
		Log: memory.NewInteractionLog(), Profiles: memory.NewProfileStore(models), Cache: memory.NewCache(nil),
		Vectors: memory.NewVectorIndex().UseCatalog(catalog), Batch: memory.NewBatchStore(), Popular: popular,
		Catalog: catalog, Analytics: a, Reports: a, Models: models, Tombstones: memory.NewTombstones(),
	}
}
