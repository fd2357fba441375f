package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/adapters/redis"
	"github.com/marquee-recsys/marquee/domain"
)

// defaultURL is the Redis that deploy/local/redis.sh starts.
const defaultURL = "redis://127.0.0.1:6379/0"

var (
	reachOnce sync.Once
	reachErr  error
)

// redisURL returns the Redis to test against, failing under CI=true and
// skipping otherwise when it does not answer.
func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("MARQUEE_TEST_REDIS_URL")
	if url == "" {
		url = defaultURL
	}
	reachOnce.Do(func() {
		opt, err := goredis.ParseURL(url)
		if err != nil {
			reachErr = err
			return
		}
		opt.MaxRetries, opt.DialerRetries = -1, 1
		c := goredis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		reachErr = c.Ping(ctx).Err()
	})
	if reachErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Redis at %s is required under CI=true: %v", url, reachErr)
		}
		tb.Skipf("no Redis at %s (%v); run deploy/local/redis.sh", url, reachErr)
	}
	return url
}

// env is one test's view of Redis: a Cache under a key prefix of its own,
// and a raw client to look at and tamper with the keys.
type env struct {
	cache  *redis.Cache
	raw    *goredis.Client
	prefix string
}

// newEnv returns a Cache under a fresh prefix whose keys are deleted when
// the test ends. Timeouts are generous: these tests check behavior, not
// latency, and may run under the race detector on a busy machine.
func newEnv(tb testing.TB, opts ...redis.Option) env {
	tb.Helper()
	url := redisURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "marquee-test-" + hex.EncodeToString(b[:])
	base := []redis.Option{
		redis.WithPrefix(prefix),
		redis.WithReadTimeout(2 * time.Second),
		redis.WithWriteTimeout(2 * time.Second),
		redis.WithDialTimeout(2 * time.Second),
	}
	c, err := redis.New(url, append(base, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	raw := goredis.NewClient(opt)
	tb.Cleanup(func() {
		deleteKeys(tb, raw, prefix+":*")
		_ = raw.Close()
		_ = c.Close()
	})
	return env{cache: c, raw: raw, prefix: prefix}
}

// deleteKeys removes every key matching pattern with SCAN and DEL.
func deleteKeys(tb testing.TB, raw *goredis.Client, pattern string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cursor uint64
	for {
		keys, next, err := raw.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			tb.Errorf("cleaning up %s: %v", pattern, err)
			return
		}
		if len(keys) > 0 {
			if err := raw.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("cleaning up %s: %v", pattern, err)
				return
			}
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

// The key layout documented in the package comment.
func (e env) genKey(u domain.UserID) string { return e.prefix + ":gen:{" + string(u) + "}" }
func (e env) listKey(u domain.UserID, gen string) string {
	return e.prefix + ":rec:{" + string(u) + "}:" + gen
}

func ctxT(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func sampleList(tag string, n int) domain.RecList {
	l := domain.RecList{Tier: domain.TierVector, ModelVersion: tag, GeneratedAt: time.Date(2026, 3, 14, 15, 9, 26, 535897123, time.UTC)}
	for i := range n {
		id := domain.MovieID(fmt.Sprintf("tt%07d", i+1))
		l.Items = append(l.Items, domain.ScoredMovie{MovieID: id, Score: float64(n-i) / 3, Title: fmt.Sprintf("Movie %d (%s)", i+1, tag)})
	}
	return l
}

// quietLogger drops go-redis's own log lines (one per failed dial), which
// the outage test provokes by the dozen. go-redis logs through one
// process-wide logger, so only a test binary may set it.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}
