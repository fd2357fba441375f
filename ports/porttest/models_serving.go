package porttest

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ModelStoreServing is the contract of what every node reads of the
// registry to follow it: the serving version without factors, any saved
// model, pruning that keeps the serving model, its rollback and the newest
// candidates, and (when the store is a ports.PromotionWatcher) an
// announcement of every promotion. newStore returns an empty registry of
// its own.
func ModelStoreServing(t *testing.T, newStore func(t *testing.T) ports.ModelStore) {
	t.Run("serving version and get", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "v")
		if _, err := s.ServingVersion(ctx(t)); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("empty: ServingVersion err = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx(t), p+"-none"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("Get of an unknown version: err = %v, want ErrNotFound", err)
		}
		m1, m2 := randomModel(p+"-1", 10, 3, 1), randomModel(p+"-2", 12, 3, 2)
		must(t, s.Save(ctx(t), m1))
		must(t, s.Save(ctx(t), m2))
		must(t, s.Promote(ctx(t), m1.Version))
		v, err := s.ServingVersion(ctx(t))
		must(t, err)
		if v != m1.Version {
			t.Fatalf("ServingVersion = %s, want %s", v, m1.Version)
		}
		got, err := s.Get(ctx(t), m2.Version)
		must(t, err)
		if got.Version != m2.Version || got.Status != domain.ModelCandidate || !slices.Equal(got.ItemFactors, m2.ItemFactors) ||
			!slices.Equal(got.Movies, m2.Movies) {
			t.Fatalf("Get(%s) = %s (%s), %d factors", m2.Version, got.Version, got.Status, len(got.ItemFactors))
		}
	})
	t.Run("prune keeps the serving model, its rollback and the newest candidates", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "v")
		var vs []string
		for i := range 7 {
			m := randomModel(p+"-"+string(rune('a'+i)), 5, 2, uint64(i+1))
			m.CreatedAt = baseTime.Add(time.Duration(i) * time.Minute)
			must(t, s.Save(ctx(t), m))
			vs = append(vs, m.Version)
		}
		// a, then b, then c serve in turn: b is what a rollback returns to.
		for _, v := range vs[:3] {
			must(t, s.Promote(ctx(t), v))
		}
		dropped, err := s.Prune(ctx(t), 2)
		must(t, err)
		slices.Sort(dropped)
		// Kept: c (serving), b (its rollback), g and f (newest candidates).
		if want := []string{vs[0], vs[3], vs[4]}; !slices.Equal(dropped, want) {
			t.Fatalf("pruned %v, want %v", dropped, want)
		}
		all, err := s.List(ctx(t))
		must(t, err)
		var left []string
		for _, m := range all {
			left = append(left, m.Version)
		}
		if want := []string{vs[6], vs[5], vs[2], vs[1]}; !slices.Equal(left, want) {
			t.Fatalf("left %v, want %v", left, want)
		}
		if _, err := s.Get(ctx(t), vs[0]); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a pruned model is still there: %v", err)
		}
		if err := s.Promote(ctx(t), vs[0]); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("promoting a pruned model: %v", err)
		}
		// Roll back to b: c becomes the one to return to, and stays.
		must(t, s.Promote(ctx(t), vs[1]))
		dropped, err = s.Prune(ctx(t), 0)
		must(t, err)
		slices.Sort(dropped)
		if want := []string{vs[5], vs[6]}; !slices.Equal(dropped, want) {
			t.Fatalf("after the rollback pruned %v, want %v", dropped, want)
		}
		v, err := s.ServingVersion(ctx(t))
		must(t, err)
		if v != vs[1] {
			t.Fatalf("serving %s after pruning, want %s", v, vs[1])
		}
		if _, err := s.Get(ctx(t), vs[2]); err != nil {
			t.Fatalf("the rollback of the rollback was pruned: %v", err)
		}
	})
	t.Run("promotions are announced", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "v")
		w, ok := s.(ports.PromotionWatcher)
		if !ok {
			t.Skip("this store does not announce promotions")
		}
		m := randomModel(p, 5, 2, 1)
		must(t, s.Save(ctx(t), m))
		var heard atomic.Int64
		wctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.WatchPromotions(wctx, func() { heard.Add(1) }) }()
		// The watch may take a moment to listen: promote until heard.
		deadline := time.Now().Add(busWait)
		for heard.Load() == 0 {
			must(t, s.Promote(ctx(t), m.Version))
			if time.Now().After(deadline) {
				t.Fatal("no promotion was announced")
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("WatchPromotions returned %v after its context ended", err)
			}
		case <-time.After(busWait):
			t.Fatal("WatchPromotions did not return after its context ended")
		}
	})
}

// ProfileStoreGuard is the contract of the profile store's guard: a
// vector folded against a model other than the registry's serving one is
// refused (ports.ErrStaleModel) and leaves the stored profile as it was;
// one of the serving model, or without a model, is stored. newStores
// returns a profile store and the registry it consults, both empty.
func ProfileStoreGuard(t *testing.T, newStores func(t *testing.T) (ports.ProfileStore, ports.ModelStore)) {
	profiles, models := newStores(t)
	p := uniq(t, "g")
	user := domain.UserID(p + "-user")
	v1, v2 := randomModel(p+"-1", 4, 2, 1), randomModel(p+"-2", 4, 2, 2)
	must(t, models.Save(ctx(t), v1))
	must(t, models.Save(ctx(t), v2))
	prof := func(version string, count int) domain.Profile {
		var vec []float32
		if version != "" {
			vec = []float32{1, float32(count)}
		}
		return domain.Profile{UserID: user, Vector: vec, ModelVersion: version, InteractionCount: count, LastEventAt: baseTime, UpdatedAt: baseTime}
	}
	// Before any model serves, every put is stored.
	must(t, profiles.Put(ctx(t), prof(v1.Version, 1)))
	must(t, models.Promote(ctx(t), v1.Version))
	must(t, profiles.Put(ctx(t), prof(v1.Version, 2)))
	must(t, models.Promote(ctx(t), v2.Version))
	if err := profiles.Put(ctx(t), prof(v1.Version, 3)); !errors.Is(err, ports.ErrStaleModel) {
		t.Fatalf("a profile of the retired model: err = %v, want ErrStaleModel", err)
	}
	got, err := profiles.Get(ctx(t), user)
	must(t, err)
	if got.ModelVersion != v1.Version || got.InteractionCount != 2 {
		t.Fatalf("after a refused put the profile is %+v, want the one stored before", got)
	}
	must(t, profiles.Put(ctx(t), prof(v2.Version, 4)))
	must(t, profiles.Put(ctx(t), prof("", 5)))
	got, err = profiles.Get(ctx(t), user)
	must(t, err)
	if got.InteractionCount != 5 || got.ModelVersion != "" {
		t.Fatalf("a profile without a model was not stored: %+v", got)
	}
	// Concurrent puts of both kinds (group-committed in PostgreSQL) each
	// get their own answer.
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			q := prof(v2.Version, 10+i)
			q.UserID = domain.UserID(p + "-c" + string(rune('a'+i)))
			if i%2 == 1 {
				q.ModelVersion = v1.Version
			}
			err := profiles.Put(ctx(t), q)
			if i%2 == 1 && !errors.Is(err, ports.ErrStaleModel) || i%2 == 0 && err != nil {
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent put: %v", err)
		}
	}
}
