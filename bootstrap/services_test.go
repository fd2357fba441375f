package bootstrap

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// realServices returns the URLs of the local PostgreSQL and Redis, or
// skips (fails under CI=true) when either is unreachable.
func realServices(t *testing.T) (dbURL, redisURL string) {
	t.Helper()
	dbURL = envOr("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	redisURL = envOr("MARQUEE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	problem := ""
	if conn, err := pgx.Connect(ctx, dbURL); err != nil {
		problem = fmt.Sprintf("PostgreSQL at %s: %v (run deploy/local/postgres.sh)", dbURL, err)
	} else {
		conn.Close(ctx)
	}
	if opt, err := goredis.ParseURL(redisURL); err != nil {
		problem = err.Error()
	} else if c := goredis.NewClient(opt); c.Ping(ctx).Err() != nil {
		problem = fmt.Sprintf("Redis at %s unreachable (run deploy/local/redis.sh)", redisURL)
	} else {
		c.Close()
	}
	if problem != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(problem)
		}
		t.Skip(problem)
	}
	return dbURL, redisURL
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestEndToEndWithRealServices runs the end-to-end scenario with every
// store on PostgreSQL + pgvector and the cache on Redis, in a schema and a
// key prefix of its own.
func TestEndToEndWithRealServices(t *testing.T) {
	dbURL, redisURL := realServices(t)
	schema := fmt.Sprintf("marquee_e2e_%d", rand.Uint32())
	t.Cleanup(func() {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, dbURL); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
		if opt, err := goredis.ParseURL(redisURL); err == nil {
			c := goredis.NewClient(opt)
			defer c.Close()
			iter := c.Scan(ctx, 0, schema+":*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		}
	})
	app := startAppEnv(t, map[string]string{
		"MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema,
		"MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": schema,
		"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "150",
	})
	endToEnd(t, app)
}
