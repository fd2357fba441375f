package actors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

var errDown = errors.New("backend down")

type failingCache struct{}

func (failingCache) Get(context.Context, domain.UserID) (domain.RecList, uint64, error) {
	return domain.RecList{}, 0, errDown
}
func (failingCache) Put(context.Context, domain.UserID, uint64, domain.RecList, time.Duration) error {
	return errDown
}
func (failingCache) Invalidate(context.Context, domain.UserID) error { return errDown }
func (failingCache) Forget(context.Context, domain.UserID) error     { return errDown }

type failingVectors struct{ ports.VectorIndex }

func (failingVectors) Nearest(context.Context, string, []float32, int, domain.MovieSet) ([]domain.ScoredMovie, error) {
	return nil, errDown
}

func (failingVectors) Search(context.Context, string, []float32, int, domain.Filter) ([]domain.ScoredMovie, error) {
	return nil, errDown
}

type failingBatch struct{}

func (failingBatch) Get(context.Context, domain.UserID) (domain.RecList, error) {
	return domain.RecList{}, errDown
}
func (failingBatch) PutAll(context.Context, string, []ports.BatchList) error { return errDown }
func (failingBatch) Delete(context.Context, domain.UserID) error             { return errDown }

type failingPopular struct{}

func (failingPopular) Record(context.Context, domain.MovieID, float64, time.Time) error {
	return errDown
}
func (failingPopular) Top(context.Context, int, domain.MovieSet, time.Time) ([]domain.ScoredMovie, error) {
	return nil, errDown
}

// slowCache blocks until its context ends, like an unreachable Redis.
type slowCache struct{ failingCache }

func (slowCache) Get(ctx context.Context, _ domain.UserID) (domain.RecList, uint64, error) {
	<-ctx.Done()
	return domain.RecList{}, 0, ctx.Err()
}

// walkWorld builds a walker whose every tier could answer: a cached list,
// a vector model, a batch list and popular movies.
func walkWorld(t *testing.T) (*Walker, WalkRequest) {
	t.Helper()
	ctx := context.Background()
	user := domain.UserID("u1")
	w := &Walker{
		Cache: memory.NewCache(nil), Vectors: memory.NewVectorIndex(), Batch: memory.NewBatchStore(),
		Popular: memory.NewPopularStore(domain.DefaultPopularity()), Catalog: memory.NewCatalog(),
		Metrics: telemetry.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
		Depth: 100, TierTimeout: 50 * time.Millisecond, CacheTTL: time.Minute,
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Vectors.PutItemVectors(ctx, &domain.Model{Version: "v1", Factors: 1,
		Movies: []domain.MovieID{"vec1", "vec2", "seen"}, ItemFactors: []float32{2, 1, 3}}))
	must(w.Batch.PutAll(ctx, "v1", []ports.BatchList{{UserID: user, List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "seen"}, {MovieID: "bat1"}, {MovieID: "bat2"}}}}}))
	must(w.Popular.Record(ctx, "pop1", 2, time.Now()))
	must(w.Popular.Record(ctx, "seen", 9, time.Now()))
	must(w.Catalog.Put(ctx, domain.Movie{ID: "vec1", Title: "Vector One"}))
	return w, WalkRequest{User: user, N: 2, Seen: domain.MovieSet{"seen": {}}, Vector: []float32{1}, ModelVersion: "v1"}
}

func TestWalkSkipsFailingTiers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		break_    func(w *Walker, r *WalkRequest)
		wantTier  domain.Tier
		wantFirst domain.MovieID
		wantErrs  map[domain.Tier]float64
	}{
		{"all healthy, cold cache: vector", func(*Walker, *WalkRequest) {}, domain.TierVector, "vec1", nil},
		{"cache down: vector", func(w *Walker, _ *WalkRequest) { w.Cache = failingCache{} }, domain.TierVector, "vec1",
			map[domain.Tier]float64{domain.TierCache: 1}},
		{"cache hangs: vector after the tier timeout", func(w *Walker, _ *WalkRequest) { w.Cache = slowCache{} }, domain.TierVector, "vec1",
			map[domain.Tier]float64{domain.TierCache: 1}},
		{"no vector: batch", func(_ *Walker, r *WalkRequest) { r.Vector = nil }, domain.TierBatch, "bat1", nil},
		{"vector down: batch", func(w *Walker, _ *WalkRequest) { w.Vectors = failingVectors{w.Vectors} }, domain.TierBatch, "bat1",
			map[domain.Tier]float64{domain.TierVector: 1}},
		{"vector and batch down: popular", func(w *Walker, _ *WalkRequest) {
			w.Vectors, w.Batch = failingVectors{w.Vectors}, failingBatch{}
		}, domain.TierPopular, "pop1", map[domain.Tier]float64{domain.TierVector: 1, domain.TierBatch: 1}},
		{"everything but popular down", func(w *Walker, _ *WalkRequest) {
			w.Cache, w.Vectors, w.Batch = failingCache{}, failingVectors{w.Vectors}, failingBatch{}
		}, domain.TierPopular, "pop1", map[domain.Tier]float64{domain.TierCache: 1, domain.TierVector: 1, domain.TierBatch: 1}},
		{"user without batch list: popular", func(_ *Walker, r *WalkRequest) { r.Vector, r.User = nil, "u2" }, domain.TierPopular, "pop1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, req := walkWorld(t)
			tt.break_(w, &req)
			list, tier, err := w.Walk(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tier != tt.wantTier || len(list.Items) == 0 || list.Items[0].MovieID != tt.wantFirst {
				t.Fatalf("tier %s, items %v; want %s starting with %s", tier, list.Items, tt.wantTier, tt.wantFirst)
			}
			for _, it := range list.Items {
				if it.MovieID == "seen" {
					t.Fatal("seen movie recommended")
				}
			}
			for _, tier := range domain.Tiers {
				if got := testutil.ToFloat64(w.Metrics.TierErrors.WithLabelValues(string(tier))); got != tt.wantErrs[tier] {
					t.Errorf("errors counted for %s = %v, want %v", tier, got, tt.wantErrs[tier])
				}
			}
		})
	}
}

func TestWalkCachesComputedListsOnly(t *testing.T) {
	t.Parallel()
	w, req := walkWorld(t)
	ctx := context.Background()
	l, tier, _ := w.Walk(ctx, req)
	if tier != domain.TierVector || l.Items[0].Title != "Vector One" {
		t.Fatalf("first walk: %s %+v", tier, l.Items)
	}
	l, tier, _ = w.Walk(ctx, req)
	if tier != domain.TierCache || l.Tier != domain.TierVector || len(l.Items) != 2 {
		t.Fatalf("second walk: %s (list from %s) %v", tier, l.Tier, l.Items)
	}
	// Asking for more than the cache holds recomputes.
	req.N = 3
	if _, tier, _ = w.Walk(ctx, req); tier != domain.TierVector {
		t.Fatalf("longer request served by %s, want vector", tier)
	}
	// Popular lists are not cached.
	req.User, req.Vector = "u3", nil
	w.Walk(ctx, req)
	if _, tier, _ = w.Walk(ctx, req); tier != domain.TierPopular {
		t.Fatalf("popular list was cached: second walk served by %s", tier)
	}
}

func TestWalkFailsWhenPopularFails(t *testing.T) {
	t.Parallel()
	w, req := walkWorld(t)
	w.Popular, req.Vector, req.User = failingPopular{}, nil, "nobody"
	if _, _, err := w.Walk(context.Background(), req); !errors.Is(err, errDown) {
		t.Fatalf("err = %v, want the popular tier's error", err)
	}
}
