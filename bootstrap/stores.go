package bootstrap

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/adapters/redis"
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
	Archive   ports.Archive

	// Ping checks the external services the stores use (nil when all are
	// in memory), for readiness.
	Ping func(ctx context.Context) error
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
	var pings []func(context.Context) error
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.WithLogger(logger), postgres.WithPopularity(cfg.Popularity),
			postgres.WithSchema(cfg.DatabaseSchema), postgres.WithEfSearch(cfg.EfSearch))
		if err != nil {
			return Stores{}, func() {}, fmt.Errorf("MARQUEE_DATABASE_URL: %w", err)
		}
		closers = append(closers, db.Close)
		s.Log, s.Profiles, s.Vectors, s.Batch = db.Interactions(), db.Profiles(), db.Vectors(), db.Batch()
		s.Popular, s.Catalog, s.Analytics, s.Reports, s.Models = db.Popular(), db.Catalog(), db.Analytics(), db.Analytics(), db.Models()
		pings = append(pings, func(ctx context.Context) error { return db.Pool().Ping(ctx) })
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
		logger.Info("using Redis for the recommendation cache")
	}
	if len(pings) > 0 {
		s.Ping = func(ctx context.Context) error {
			for _, p := range pings {
				if err := p(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return s, close, nil
}

// memoryStores returns the in-memory adapter of every port.
func memoryStores(cfg Config) Stores {
	a := memory.NewAnalytics()
	return Stores{
		Log: memory.NewInteractionLog(), Profiles: memory.NewProfileStore(), Cache: memory.NewCache(nil),
		Vectors: memory.NewVectorIndex(), Batch: memory.NewBatchStore(), Popular: memory.NewPopularStore(cfg.Popularity),
		Catalog: memory.NewCatalog(), Analytics: a, Reports: a, Models: memory.NewModelStore(),
		Archive: memory.NewArchive(),
	}
}
