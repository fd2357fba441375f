package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/redis"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// benchDepth is the walk's default depth: the length of a cached list.
const benchDepth = 100

// BenchmarkGet measures tier 1 against the local Redis: a hit decodes a
// 100-item list; a miss returns the generation. The hit also reports the
// 50th and 99th percentile of single calls (run with -benchtime=20000x
// for a fixed sample).
func BenchmarkGet(b *testing.B) {
	e, ctx := newBenchEnv(b)
	b.Run("hit", func(b *testing.B) {
		user := domain.UserID("bench_hit")
		cacheList(b, e, user)
		took := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			l, _, err := e.cache.Get(ctx, user)
			took = append(took, time.Since(start))
			if err != nil || len(l.Items) != benchDepth {
				b.Fatalf("Get = %d items, %v", len(l.Items), err)
			}
		}
		b.StopTimer()
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	})
	b.Run("miss", func(b *testing.B) {
		user := domain.UserID("bench_miss")
		if _, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) { // creates the generation
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := e.cache.Get(ctx, user); !errors.Is(err, ports.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		user := domain.UserID("bench_hit_parallel")
		cacheList(b, e, user)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, gen, err := e.cache.Get(ctx, user); err != nil {
					b.Errorf("Get: gen %d, %v", gen, err)
					return
				}
			}
		})
	})
}

func BenchmarkPut(b *testing.B) {
	e, ctx := newBenchEnv(b)
	user, list := domain.UserID("bench_put"), sampleList("bench", benchDepth)
	_, gen, err := e.cache.Get(ctx, user)
	if !errors.Is(err, ports.ErrNotFound) {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.cache.Put(ctx, user, gen, list, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInvalidate(b *testing.B) {
	e, ctx := newBenchEnv(b)
	user := domain.UserID("bench_invalidate")
	b.ReportAllocs()
	for b.Loop() {
		if err := e.cache.Invalidate(ctx, user); err != nil {
			b.Fatal(err)
		}
	}
}

// newBenchEnv is newEnv with a context that does not expire (a benchmark
// with -count runs longer than a test) and undecodable values logged.
func newBenchEnv(b *testing.B) (env, context.Context) {
	return newEnv(b, redis.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)))), context.Background()
}

// cacheList caches a benchDepth-item list for user.
func cacheList(b *testing.B, e env, user domain.UserID) {
	b.Helper()
	ctx := context.Background()
	if err := e.cache.Invalidate(ctx, user); err != nil {
		b.Fatal(err)
	}
	_, gen, err := e.cache.Get(ctx, user)
	if !errors.Is(err, ports.ErrNotFound) {
		b.Fatal(err)
	}
	if err := e.cache.Put(ctx, user, gen, sampleList("bench", benchDepth), time.Hour); err != nil {
		b.Fatal(err)
	}
	if _, _, err := e.cache.Get(ctx, user); err != nil {
		b.Fatal(err)
	}
}
