package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/telemetry"
)

// fixture is a running actor system on in-memory adapters.
type fixture struct {
	sys       *System
	deps      Deps
	log       *memory.InteractionLog
	analytics *memory.Analytics
	models    *memory.ModelStore
	vectors   *memory.VectorIndex
	batch     *memory.BatchStore
	popular   *memory.PopularStore
}

func newFixture(t *testing.T, cfg Config, mutate ...func(*Deps)) *fixture {
	t.Helper()
	f := &fixture{
		log: memory.NewInteractionLog(), analytics: memory.NewAnalytics(), models: memory.NewModelStore(),
		vectors: memory.NewVectorIndex(), batch: memory.NewBatchStore(), popular: memory.NewPopularStore(domain.DefaultPopularity()),
	}
	f.deps = Deps{
		Log: f.log, Profiles: memory.NewProfileStore(nil), Cache: memory.NewCache(nil), Vectors: f.vectors,
		Batch: f.batch, Popular: f.popular, Catalog: memory.NewCatalog(), Analytics: f.analytics,
		Models: NewModels(f.models), Metrics: telemetry.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mutate {
		m(&f.deps)
	}
	sys, err := Start(cfg, f.deps)
	if err != nil {
		t.Fatal(err)
	}
	f.sys = sys
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return f
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

var evSeq atomic.Int64

func event(user domain.UserID, movie domain.MovieID, typ domain.EventType) domain.Interaction {
	n := evSeq.Add(1)
	return domain.Interaction{
		EventID: fmt.Sprintf("ev-%d", n), UserID: user, MovieID: movie, Type: typ,
		Weight: domain.DefaultWeights().For(typ, nil), Time: t0.Add(time.Duration(n) * time.Second), IngestedAt: t0,
	}
}

// seedPopular gives movies m0..m(n-1) decreasing popularity.
func (f *fixture) seedPopular(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		if err := f.popular.Record(testCtx(t), domain.MovieID(fmt.Sprint("m", i)), float64(n-i), t0); err != nil {
			t.Fatal(err)
		}
	}
}

// publishModel publishes a 2-factor model where movies a* load on the
// first factor and b* on the second, so a user's taste is easy to read.
func (f *fixture) publishModel(t *testing.T, version string) *domain.Model {
	m := &domain.Model{Version: version, Factors: 2, Alpha: 10, Lambda: 0.1, CreatedAt: t0}
	for i := 0; i < 10; i++ {
		m.Movies = append(m.Movies, domain.MovieID(fmt.Sprint("a", i)), domain.MovieID(fmt.Sprint("b", i)))
		w := float32(1 - 0.05*float64(i))
		m.ItemFactors = append(m.ItemFactors, w, 0.05, 0.05, w)
	}
	ctx := testCtx(t)
	if err := f.vectors.PutItemVectors(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := f.models.Save(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := f.models.Promote(ctx, m.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.deps.Models.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

func movieIDs(l domain.RecList) []domain.MovieID {
	out := make([]domain.MovieID, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.MovieID
	}
	return out
}
