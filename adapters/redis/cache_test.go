package redis_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/adapters/redis"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestCacheContract(t *testing.T) {
	redisURL(t) // skip (or fail under CI) once, not in every subtest
	porttest.Cache(t, func(t *testing.T) ports.RecommendationCache { return newEnv(t).cache })
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		opts      []redis.Option
		wantErr   bool
	}{
		{name: "defaults", url: defaultURL},
		{name: "url with settings", url: "redis://user:pw@localhost:6380/3?dial_timeout=1s&read_timeout=20ms&pool_size=4&max_retries=2"},
		{name: "all options", url: defaultURL, opts: []redis.Option{
			redis.WithPrefix("a:b"), redis.WithGenerationTTL(time.Hour), redis.WithDialTimeout(time.Second),
			redis.WithReadTimeout(time.Second), redis.WithWriteTimeout(time.Second), redis.WithPoolSize(3),
			redis.WithMaxRetries(2), redis.WithLogger(nil),
		}},
		{name: "not a url", url: "localhost:6379", wantErr: true},
		{name: "wrong scheme", url: "http://localhost:6379", wantErr: true},
		{name: "empty prefix", url: defaultURL, opts: []redis.Option{redis.WithPrefix("")}, wantErr: true},
		{name: "prefix with hash tag", url: defaultURL, opts: []redis.Option{redis.WithPrefix("a{b}")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := redis.New(tt.url, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error = %v, want error: %v", tt.url, err, tt.wantErr)
			}
			if c != nil {
				_ = c.Close()
			}
		})
	}
}

// TestStalePutAfterInvalidate walks the one interleaving the generations
// exist for, step by step, and looks at the keys themselves.
func TestStalePutAfterInvalidate(t *testing.T) {
	t.Parallel()
	e, ctx, user := newEnv(t), ctxT(t), domain.UserID("user_1")

	_, g0, err := e.cache.Get(ctx, user)
	if !errors.Is(err, ports.ErrNotFound) || g0 == 0 {
		t.Fatalf("first Get = gen %d, err %v; want a seeded generation and ErrNotFound", g0, err)
	}
	mustDo(t, e.cache.Put(ctx, user, g0, sampleList("fresh", 3), time.Minute))
	got, g, err := e.cache.Get(ctx, user)
	if err != nil || g != g0 || got.ModelVersion != "fresh" {
		t.Fatalf("Get after Put = %q gen %d err %v; want the list at gen %d", got.ModelVersion, g, err, g0)
	}

	// A request reads g0 and starts computing; an event invalidates.
	mustDo(t, e.cache.Invalidate(ctx, user))
	if n := e.raw.Exists(ctx, e.listKey(user, fmt.Sprint(g0))).Val(); n != 0 {
		t.Fatalf("Invalidate left the list of generation %d in Redis", g0)
	}
	_, g1, err := e.cache.Get(ctx, user)
	if !errors.Is(err, ports.ErrNotFound) || g1 != g0+1 {
		t.Fatalf("Get after Invalidate = gen %d, err %v; want gen %d and ErrNotFound", g1, err, g0+1)
	}
	// The request finishes and caches what it computed before the event.
	mustDo(t, e.cache.Put(ctx, user, g0, sampleList("stale", 3), time.Minute))
	if _, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("stale Put was served: err = %v", err)
	}
	if n := e.raw.Exists(ctx, e.listKey(user, fmt.Sprint(g0)), e.listKey(user, fmt.Sprint(g1))).Val(); n != 0 {
		t.Fatalf("stale Put stored %d key(s)", n)
	}
	// A request that read g1 caches normally.
	mustDo(t, e.cache.Put(ctx, user, g1, sampleList("new", 2), time.Minute))
	if got, g, err := e.cache.Get(ctx, user); err != nil || g != g1 || got.ModelVersion != "new" {
		t.Fatalf("Get = %q gen %d err %v; want the list at gen %d", got.ModelVersion, g, err, g1)
	}
}

// TestInvalidationRace runs readers (Get, compute, Put with the generation
// read) against concurrent invalidators and checks every hit: a list must
// never be served once an Invalidate that began after its Get has returned.
func TestInvalidationRace(t *testing.T) {
	t.Parallel()
	e, ctx, user := newEnv(t), ctxT(t), domain.UserID("racer")

	// started counts Invalidate calls begun, done those returned. A list is
	// tagged with started as read just after its Get returned; a reader
	// that saw done > tag before its own Get must not get that list, since
	// at least one Invalidate began after the list's Get and ended before.
	var started, done, hits, misses atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	fail := make(chan string, 16)
	report := func(format string, args ...any) {
		select {
		case fail <- fmt.Sprintf(format, args...):
		default:
		}
		stop.Store(true)
	}
	for w := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				seen := done.Load()
				l, gen, err := e.cache.Get(ctx, user)
				tag := started.Load()
				switch {
				case err == nil:
					hits.Add(1)
					var lgen uint64
					var ltag int64
					if _, err := fmt.Sscanf(l.ModelVersion, "%d/%d", &lgen, &ltag); err != nil {
						report("unexpected list %q", l.ModelVersion)
						return
					}
					if lgen != gen {
						report("list put at generation %d served at generation %d", lgen, gen)
					}
					if ltag < seen {
						report("stale list served: computed before invalidation %d, read after %d had returned", ltag+1, seen)
					}
				case errors.Is(err, ports.ErrNotFound):
					misses.Add(1)
					time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond) // compute
					list := sampleList(fmt.Sprintf("%d/%d", gen, tag), 5)
					if err := e.cache.Put(ctx, user, gen, list, time.Minute); err != nil {
						report("Put: %v", err)
					}
				default:
					report("Get: %v", err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for i := 0; i < 300 && !stop.Load(); i++ {
				started.Add(1)
				if err := e.cache.Invalidate(ctx, user); err != nil {
					report("Invalidate: %v", err)
				}
				done.Add(1)
				time.Sleep(time.Millisecond)
			}
		})
	}
	// Stop the readers once both invalidators are through.
	go func() {
		for done.Load() < 600 && !stop.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		stop.Store(true)
	}()
	wg.Wait()
	close(fail)
	for msg := range fail {
		t.Error(msg)
	}
	if hits.Load() == 0 || misses.Load() == 0 {
		t.Errorf("hits = %d, misses = %d: the race did not exercise both paths", hits.Load(), misses.Load())
	}
	t.Logf("%d hits, %d misses, %d invalidations", hits.Load(), misses.Load(), done.Load())

	// After a last Invalidate, stale Puts with every older generation find
	// nothing to write to.
	_, last, _ := e.cache.Get(ctx, user)
	mustDo(t, e.cache.Invalidate(ctx, user))
	for g := last - 20; g <= last; g++ {
		mustDo(t, e.cache.Put(ctx, user, g, sampleList("stale", 1), time.Minute))
	}
	if l, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get after the last Invalidate = %q, %v; want ErrNotFound", l.ModelVersion, err)
	}
}

// TestGenerationKeyLoss makes the generation key disappear (expiry, or an
// eviction simulated with DEL) and checks that generations never repeat,
// so that no old list and no Put holding an old generation is served.
func TestGenerationKeyLoss(t *testing.T) {
	t.Parallel()
	const genTTL = 200 * time.Millisecond
	e, ctx := newEnv(t, redis.WithGenerationTTL(genTTL)), ctxT(t)

	t.Run("expiry", func(t *testing.T) {
		user := domain.UserID("idle")
		_, g0, _ := e.cache.Get(ctx, user)
		mustDo(t, e.cache.Invalidate(ctx, user))
		_, g1, _ := e.cache.Get(ctx, user)
		if ttl := e.raw.PTTL(ctx, e.genKey(user)).Val(); ttl <= 0 || ttl > genTTL {
			t.Fatalf("generation key TTL = %v, want within (0, %v]", ttl, genTTL)
		}
		waitGone(t, e, e.genKey(user))
		_, g2, err := e.cache.Get(ctx, user)
		if !errors.Is(err, ports.ErrNotFound) || g2 <= g1 {
			t.Fatalf("Get after the generation expired = gen %d, err %v; want a generation above %d", g2, err, g1)
		}
		for _, old := range []uint64{g0, g1} {
			mustDo(t, e.cache.Put(ctx, user, old, sampleList("stale", 1), time.Minute))
		}
		if _, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a Put with a generation from before the expiry was served (err = %v)", err)
		}
	})

	t.Run("list keeps its generation alive", func(t *testing.T) {
		user := domain.UserID("cached")
		_, g, _ := e.cache.Get(ctx, user)
		mustDo(t, e.cache.Put(ctx, user, g, sampleList("long", 2), time.Minute))
		if ttl := e.raw.PTTL(ctx, e.genKey(user)).Val(); ttl < 50*time.Second {
			t.Fatalf("generation key TTL = %v after a Put with a 1 min TTL, want at least the list's", ttl)
		}
		listTTL := e.raw.PTTL(ctx, e.listKey(user, fmt.Sprint(g))).Val()
		if listTTL <= 0 || listTTL > time.Minute {
			t.Fatalf("list TTL = %v, want within (0, 1m]", listTTL)
		}
	})

	t.Run("eviction", func(t *testing.T) {
		user := domain.UserID("evicted")
		_, g, _ := e.cache.Get(ctx, user)
		mustDo(t, e.cache.Put(ctx, user, g, sampleList("old", 2), time.Minute))
		mustDo(t, e.raw.Del(ctx, e.genKey(user)).Err()) // the list key lives on
		_, g2, err := e.cache.Get(ctx, user)
		if !errors.Is(err, ports.ErrNotFound) || g2 <= g {
			t.Fatalf("Get after losing the generation key = gen %d, err %v; want a miss above %d", g2, err, g)
		}
		mustDo(t, e.raw.Del(ctx, e.genKey(user)).Err())
		mustDo(t, e.cache.Invalidate(ctx, user)) // re-seeds without a Get
		_, g3, _ := e.cache.Get(ctx, user)
		if g3 <= g2 {
			t.Fatalf("generation after re-seeding by Invalidate = %d, want above %d", g3, g2)
		}
		mustDo(t, e.cache.Put(ctx, user, g, sampleList("stale", 1), time.Minute))
		if _, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("old generation served after eviction (err = %v)", err)
		}
	})
}

func waitGone(t *testing.T, e env, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.raw.Exists(context.Background(), key).Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("key %s did not expire", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPutTTL(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), ctxT(t)
	tests := []struct {
		name    string
		ttl     time.Duration
		wantHit bool
	}{
		{"sub-millisecond rounds up to 1ms and expires", 10 * time.Microsecond, false},
		{"zero drops the list", 0, false},
		{"negative drops the list", -time.Second, false},
		{"positive keeps the list", time.Minute, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := domain.UserID(fmt.Sprintf("ttl_%d", i))
			_, g, _ := e.cache.Get(ctx, user)
			mustDo(t, e.cache.Put(ctx, user, g, sampleList("first", 1), time.Minute))
			mustDo(t, e.cache.Put(ctx, user, g, sampleList("second", 1), tt.ttl))
			time.Sleep(5 * time.Millisecond)
			got, _, err := e.cache.Get(ctx, user)
			if hit := err == nil; hit != tt.wantHit || hit && got.ModelVersion != "second" {
				t.Fatalf("Get = %q, %v; want hit: %v", got.ModelVersion, err, tt.wantHit)
			}
		})
	}
}

func TestUndecodableValueIsAMiss(t *testing.T) {
	t.Parallel()
	e, ctx, user := newEnv(t), ctxT(t), domain.UserID("future")
	_, g, _ := e.cache.Get(ctx, user)
	key := e.listKey(user, strconv.FormatUint(g, 10))
	for _, v := range []string{"\x02a list in a format from the future", "", "\x01\xff"} {
		mustDo(t, e.raw.Set(ctx, key, v, time.Minute).Err())
		_, g2, err := e.cache.Get(ctx, user)
		if !errors.Is(err, ports.ErrNotFound) || g2 != g {
			t.Fatalf("Get over %q = gen %d, %v; want ErrNotFound at gen %d", v, g2, err, g)
		}
	}
	mustDo(t, e.cache.Put(ctx, user, g, sampleList("v1", 2), time.Minute))
	if got, _, err := e.cache.Get(ctx, user); err != nil || got.ModelVersion != "v1" {
		t.Fatalf("Get after overwriting = %q, %v", got.ModelVersion, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	t.Run("canceled context is not unavailability", func(t *testing.T) {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := e.cache.Get(ctx, "u")
		if !errors.Is(err, context.Canceled) || errors.Is(err, ports.ErrUnavailable) {
			t.Fatalf("Get with canceled context: err = %v", err)
		}
	})
	t.Run("wrong key type is not unavailability", func(t *testing.T) {
		e, ctx := newEnv(t), ctxT(t)
		mustDo(t, e.raw.HSet(ctx, e.genKey("u"), "f", "v").Err())
		err := e.cache.Invalidate(ctx, "u")
		if err == nil || errors.Is(err, ports.ErrUnavailable) {
			t.Fatalf("Invalidate over a hash: err = %v, want a plain error", err)
		}
	})
	t.Run("closed cache is unavailable", func(t *testing.T) {
		e, ctx := newEnv(t), ctxT(t)
		mustDo(t, e.cache.Close())
		_, _, err := e.cache.Get(ctx, "u")
		if !errors.Is(err, ports.ErrUnavailable) || !errors.Is(err, goredis.ErrClosed) {
			t.Fatalf("Get after Close: err = %v, want ErrUnavailable", err)
		}
		if err := e.cache.Ping(ctx); !errors.Is(err, ports.ErrUnavailable) {
			t.Fatalf("Ping after Close: err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("nothing listens", func(t *testing.T) {
		c, err := redis.New("redis://127.0.0.1:1/0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := ctxT(t)
		checks := map[string]error{
			"Ping":       c.Ping(ctx),
			"Invalidate": c.Invalidate(ctx, "u"),
			"Put":        c.Put(ctx, "u", 1, sampleList("x", 1), time.Minute),
		}
		_, _, checks["Get"] = c.Get(ctx, "u")
		for op, err := range checks {
			if !errors.Is(err, ports.ErrUnavailable) {
				t.Errorf("%s: err = %v, want ErrUnavailable", op, err)
			}
		}
	})
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
