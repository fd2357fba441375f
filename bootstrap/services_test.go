package bootstrap

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
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
		// A database makes this a real deployment, which needs API keys
		// unless told it is a development setup (auth is tested in
		// auth_test.go).
		"MARQUEE_INSECURE_DEV": "true",
	})
	endToEnd(t, app)
}

// ownRedis starts a redis-server of the test's own on a free loopback port.
func ownRedis(t *testing.T, port int) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is required under CI=true: %v", err)
		}
		t.Skip("no redis-server binary; run deploy/local/redis.sh")
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--logfile", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	waitFor(t, "redis-server to listen", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return stop
}

// TestRedisStoppedMidTest kills the cache's Redis under a running node:
// recommendations still answer 200 from a lower tier, events are still
// accepted and applied, and when Redis returns the cache is used again.
func TestRedisStoppedMidTest(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stop := ownRedis(t, port)
	app := startAppEnv(t, map[string]string{"MARQUEE_REDIS_URL": fmt.Sprintf("redis://127.0.0.1:%d/0", port),
		"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "100"})
	c := client(t, app)
	// Under heavy load a cache write can miss its 50 ms budget (the list is
	// then simply not cached), so wait for a hit rather than expect the
	// second request to be one.
	waitFor(t, "a cache hit before the outage", func() bool { return getRecs(t, c, "user_1", 5).Tier == "cache" })

	stop()
	// The list may still come from the in-process copy of the cached one
	// (exact until the user's next event), or from a lower tier.
	r := getRecs(t, c, "user_1", 5) // fails the test unless 200
	if len(r.Items) != 5 {
		t.Fatalf("with Redis down: tier %s, %d items", r.Tier, len(r.Items))
	}
	movie := r.Items[0].MovieID
	if code := postEvents(t, c, false, marquee.EventIn{EventID: new("redis-down-1"), UserID: "user_1", MovieID: movie, Type: marquee.EventInTypeClick}); code != http.StatusAccepted {
		t.Fatalf("POST with Redis down: %d", code)
	}
	waitFor(t, "the event to be applied with Redis down", func() bool {
		h, _ := app.Stores.Log.UserHistory(context.Background(), "user_1")
		for _, ev := range h {
			if ev.EventID == "redis-down-1" {
				return true
			}
		}
		return false
	})
	// The event's invalidation failed, so nothing cached may answer now.
	if r := getRecs(t, c, "user_1", 5); slices.Contains(ids(r), movie) || r.Tier == "cache" {
		t.Fatalf("after a click with Redis down: tier %s, %v", r.Tier, ids(r))
	}
	ready, err := c.GetReadyzWithResponse(context.Background())
	if err != nil || ready.StatusCode() != http.StatusOK || ready.JSON200.Status != "degraded" {
		t.Fatalf("/readyz with Redis down: %d %s %v", ready.StatusCode(), ready.Body, err)
	}
	during := availability(t, c, 50)
	if during != 1 {
		t.Fatalf("recommendations availability with Redis down = %.2f", during)
	}

	ownRedis(t, port)
	back := time.Now()
	waitFor(t, "the cache to be used again", func() bool {
		getRecs(t, c, "user_1", 5)
		return getRecs(t, c, "user_1", 5).Tier == "cache"
	})
	t.Logf("Redis down: readiness degraded, recommendations availability %.0f%%, events lost 0; cache hits again %.2fs after Redis returned",
		100*during, time.Since(back).Seconds())
}
