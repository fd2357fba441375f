package actors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// registry is a model registry and vector index of a test's own, with a
// profile store guarded by it, as a node on PostgreSQL has.
type registry struct {
	models  *memory.ModelStore
	vectors *memory.VectorIndex
}

func newRegistry() *registry {
	return &registry{models: memory.NewModelStore(), vectors: memory.NewVectorIndex()}
}

// deps points a fixture at the registry.
func (r *registry) deps(store ports.ModelStore) func(*Deps) {
	return func(d *Deps) {
		d.Models, d.Vectors, d.Profiles = NewModels(store), r.vectors, memory.NewProfileStore(r.models)
	}
}

// publish promotes a two-factor model: a* movies load on the first factor
// and b* on the second, or the other way round when flipped.
func (r *registry) publish(t *testing.T, version string, flipped bool) {
	t.Helper()
	m := &domain.Model{Version: version, Factors: 2, Alpha: 10, Lambda: 0.1, CreatedAt: t0}
	for i := 0; i < 10; i++ {
		m.Movies = append(m.Movies, domain.MovieID(fmt.Sprint("a", i)), domain.MovieID(fmt.Sprint("b", i)))
		w := float32(1 - 0.05*float64(i))
		if flipped {
			m.ItemFactors = append(m.ItemFactors, 0.05, w, w, 0.05)
		} else {
			m.ItemFactors = append(m.ItemFactors, w, 0.05, 0.05, w)
		}
	}
	ctx := testCtx(t)
	for _, err := range []error{r.vectors.PutItemVectors(ctx, m), r.models.Save(ctx, m), r.models.Promote(ctx, version)} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPromotionRetiresEveryList: once the node follows a promotion, no
// list of the model it replaced is served, whichever way it was kept (the
// near copy and the cache of the HTTP fast path, the walk's cache read,
// the precomputed batch list); each user's next list comes from the new
// model.
func TestPromotionRetiresEveryList(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	r.publish(t, "v1", false)
	f := newFixture(t, Config{}, r.deps(r.models))
	if _, err := f.deps.Models.Refresh(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	f.seedPopular(t, 30)
	liker, batched := domain.UserID("switch_liker"), domain.UserID("switch_batched")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(liker, "a0", domain.EventLike)}); err != nil {
		t.Fatal(err)
	}
	// A user with no history, but a list precomputed by v1.
	if err := f.batch.PutAll(testCtx(t), "v1", []ports.BatchList{{UserID: batched, List: domain.RecList{ModelVersion: "v1",
		Items: []domain.ScoredMovie{{MovieID: "b3", Score: 2}, {MovieID: "b4", Score: 1}, {MovieID: "b5", Score: 0.5}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []domain.UserID{liker, batched} {
		for i := range 3 { // computed, then cached (fast path, near copy)
			s, err := f.sys.Recommend(testCtx(t), u, 3)
			if err != nil || s.List.ModelVersion != "v1" {
				t.Fatalf("%s, request %d before the promotion: %s %q %v", u, i, s.ServedBy, s.List.ModelVersion, err)
			}
		}
	}
	r.publish(t, "v2", true)
	waitFor(t, "the node to follow the promotion", func() bool { return f.deps.Models.Version() == "v2" })
	if got := testutil.ToFloat64(f.deps.Metrics.ServingModel.WithLabelValues("v2")); got != 1 {
		t.Fatalf("marquee_serving_model{version=v2} = %v", got)
	}
	for i := range 3 {
		s, err := f.sys.Recommend(testCtx(t), liker, 3)
		if err != nil || s.List.ModelVersion != "v2" {
			t.Fatalf("liker, request %d after the promotion: %s %q %v", i, s.ServedBy, s.List.ModelVersion, err)
		}
		if i == 0 && s.ServedBy != domain.TierVector {
			t.Fatalf("liker's first list after the promotion: %s %v, want one computed from v2", s.ServedBy, movieIDs(s.List))
		}
		s, err = f.sys.Recommend(testCtx(t), batched, 3)
		if err != nil || s.List.ModelVersion != "" || s.ServedBy != domain.TierPopular {
			t.Fatalf("batched user, request %d after the promotion: %s %q %v, want popular (the v1 batch list is retired)", i, s.ServedBy, s.List.ModelVersion, err)
		}
	}
}

// hiddenWatch hides the registry's announcements, so the node learns of a
// promotion only when it polls (here: never by itself).
type hiddenWatch struct{ ports.ModelStore }

// TestAProfileIsNeverStoredFromAnOlderModel: a node that has not followed a
// promotion yet folds a user in against its old model; the profile store
// refuses that vector, and the node switches to the serving model and
// folds the user in again before it stores the profile.
func TestAProfileIsNeverStoredFromAnOlderModel(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	r.publish(t, "v1", false)
	f := newFixture(t, Config{ModelPoll: time.Hour}, r.deps(hiddenWatch{r.models}))
	ctx := testCtx(t)
	if _, err := f.deps.Models.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	u := domain.UserID("lagging_node_user")
	if err := f.sys.Apply(ctx, []domain.Interaction{event(u, "a0", domain.EventLike)}); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "v2", true)
	time.Sleep(50 * time.Millisecond)
	if v := f.deps.Models.Version(); v != "v1" {
		t.Fatalf("the node follows %s by itself; the test needs it behind", v)
	}
	if err := f.sys.Apply(ctx, []domain.Interaction{event(u, "a1", domain.EventLike)}); err != nil {
		t.Fatal(err)
	}
	p, err := f.deps.Profiles.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if p.ModelVersion != "v2" || p.InteractionCount != 2 || f.deps.Models.Version() != "v2" {
		t.Fatalf("stored profile %+v, node on %s; want a v2 profile counting both events and the node on v2", p, f.deps.Models.Version())
	}
}

// TestNodeFollowsTheRegistryByPolling: without announcements, the poll
// finds a promotion made elsewhere.
func TestNodeFollowsTheRegistryByPolling(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	r.publish(t, "v1", false)
	f := newFixture(t, Config{ModelPoll: 20 * time.Millisecond}, r.deps(hiddenWatch{r.models}))
	r.publish(t, "v2", true)
	waitFor(t, "the poll to find v2", func() bool { return f.deps.Models.Version() == "v2" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if changed, err := f.deps.Models.Refresh(ctx); changed || err != nil {
		t.Fatalf("a refresh with nothing new: changed %v, %v", changed, err)
	}
}
