package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

// benchWorld is a 5,000-movie catalog with a 64-factor model, a batch list
// and popularity for every movie, and a user who has seen 50 movies.
func benchWorld(b *testing.B) (*Walker, WalkRequest) {
	const movies, k = 5000, 64
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	m := &domain.Model{Version: "v1", Factors: k, ItemFactors: make([]float32, movies*k)}
	cat := memory.NewCatalog()
	pop := memory.NewPopularStore(domain.DefaultPopularity())
	for i := 0; i < movies; i++ {
		id := domain.MovieID(fmt.Sprintf("m%05d", i))
		m.Movies = append(m.Movies, id)
		if err := cat.Put(ctx, domain.Movie{ID: id, Title: "Movie " + string(id)}); err != nil {
			b.Fatal(err)
		}
		if err := pop.Record(ctx, id, r.Float64()*10, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(r.NormFloat64())
	}
	w := &Walker{
		Cache: memory.NewCache(nil), Vectors: memory.NewVectorIndex(), Batch: memory.NewBatchStore(), Popular: pop, Catalog: cat,
		Metrics: telemetry.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
		Depth: 100, TierTimeout: time.Second, CacheTTL: time.Hour,
	}
	if err := w.Vectors.PutItemVectors(ctx, m); err != nil {
		b.Fatal(err)
	}
	batch := domain.RecList{}
	for i := 0; i < 100; i++ {
		batch.Items = append(batch.Items, domain.ScoredMovie{MovieID: m.Movies[i*7], Score: float64(100 - i)})
	}
	if err := w.Batch.PutAll(ctx, "v1", []ports.BatchList{{UserID: "u1", List: batch}}); err != nil {
		b.Fatal(err)
	}
	seen := domain.MovieSet{}
	for i := 0; i < 50; i++ {
		seen[m.Movies[r.IntN(movies)]] = struct{}{}
	}
	vec := make([]float32, k)
	for i := range vec {
		vec[i] = float32(r.NormFloat64())
	}
	return w, WalkRequest{User: "u1", N: 10, Seen: seen, Vector: vec, ModelVersion: "v1"}
}

// BenchmarkWalk measures one request per tier with the in-memory adapters:
// the walk alone, without actor hops or HTTP.
func BenchmarkWalk(b *testing.B) {
	ctx := context.Background()
	for _, tier := range []domain.Tier{domain.TierCache, domain.TierVector, domain.TierBatch, domain.TierPopular} {
		b.Run(string(tier), func(b *testing.B) {
			w, req := benchWorld(b)
			switch tier {
			case domain.TierCache:
				w.Walk(ctx, req) // fills the cache
			case domain.TierVector:
				w.Cache = noCache{}
			case domain.TierBatch:
				w.Cache, req.Vector = noCache{}, nil
			case domain.TierPopular:
				w.Cache, req.Vector, req.User = noCache{}, nil, "nobody"
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, got, err := w.Walk(ctx, req); err != nil || got != tier {
					b.Fatalf("served by %s (%v), want %s", got, err, tier)
				}
			}
		})
	}
}

// BenchmarkRecommend measures a request through the actor system (router
// hop, user actor, walk, analytics send) on the cache tier, the path most
// requests take.
func BenchmarkRecommend(b *testing.B) {
	w, req := benchWorld(b)
	deps := Deps{
		Log: memory.NewInteractionLog(), Profiles: memory.NewProfileStore(nil), Cache: w.Cache, Vectors: w.Vectors,
		Batch: w.Batch, Popular: w.Popular, Catalog: w.Catalog, Analytics: memory.NewAnalytics(),
		Models: NewModels(memory.NewModelStore()), Metrics: w.Metrics, Logger: w.Logger,
	}
	sys, err := Start(Config{}, deps)
	if err != nil {
		b.Fatal(err)
	}
	defer sys.Stop(context.Background())
	ctx := context.Background()
	if _, err := sys.Recommend(ctx, req.User, 10); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sys.Recommend(ctx, req.User, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// noCache misses every time, so the walk reaches the tier under test.
type noCache struct{}

func (noCache) Get(context.Context, domain.UserID) (domain.RecList, uint64, error) {
	return domain.RecList{}, 0, ports.ErrNotFound
}
func (noCache) Put(context.Context, domain.UserID, uint64, domain.RecList, time.Duration) error {
	return nil
}
func (noCache) Invalidate(context.Context, domain.UserID) error { return nil }
func (noCache) Forget(context.Context, domain.UserID) error     { return nil }
