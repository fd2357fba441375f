package porttest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// VectorIndex is the contract of ports.VectorIndex. minRecall is the
// recall@10 against exact search that the implementation promises (1 for
// exact indexes; approximate ones such as HNSW state theirs).
func VectorIndex(t *testing.T, newIndex func(t *testing.T) ports.VectorIndex, minRecall float64) {
	t.Run("nearest by inner product", func(t *testing.T) {
		x, v := newIndex(t), uniq(t, "v")
		m := &domain.Model{Version: v, Factors: 2, Movies: []domain.MovieID{"a", "b", "c", "d"},
			ItemFactors: []float32{1, 0, 0, 1, 2, 2, -1, -1}}
		must(t, x.PutItemVectors(ctx(t), m))
		got, err := x.Nearest(ctx(t), v, []float32{1, 0.5}, 3, nil)
		must(t, err)
		if want := []domain.MovieID{"c", "a", "b"}; !slices.Equal(ids(got), want) {
			t.Fatalf("nearest = %v, want %v", ids(got), want)
		}
		if got[0].Score < 2.999 || got[0].Score > 3.001 {
			t.Fatalf("score of c = %v, want 3", got[0].Score)
		}
	})
	t.Run("unknown version", func(t *testing.T) {
		x := newIndex(t)
		if _, err := x.Nearest(ctx(t), uniq(t, "nope"), []float32{1, 2}, 3, nil); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("exclusions do not starve the result", func(t *testing.T) {
		x, v := newIndex(t), uniq(t, "v")
		m := randomModel(v, 2000, 16, 1)
		must(t, x.PutItemVectors(ctx(t), m))
		q := randomVec(16, 2)
		exact := exactTop(m, q, 500, nil)
		exclude := domain.MovieSet{}
		for _, id := range exact[:300] { // the 300 best are seen
			exclude[id] = struct{}{}
		}
		got, err := x.Nearest(ctx(t), v, q, 10, exclude)
		must(t, err)
		if len(got) != 10 {
			t.Fatalf("got %d results with 300 exclusions, want 10", len(got))
		}
		for _, s := range got {
			if exclude.Has(s.MovieID) {
				t.Fatalf("excluded movie %s returned", s.MovieID)
			}
		}
		assertRecall(t, ids(got), exactTop(m, q, 10, exclude), minRecall)
	})
	t.Run("recall against exact search", func(t *testing.T) {
		x, v := newIndex(t), uniq(t, "v")
		m := randomModel(v, 3000, 32, 3)
		must(t, x.PutItemVectors(ctx(t), m))
		total := 0.0
		for q := 0; q < 50; q++ {
			vec := randomVec(32, uint64(100+q))
			got, err := x.Nearest(ctx(t), v, vec, 10, nil)
			must(t, err)
			total += recall(ids(got), exactTop(m, vec, 10, nil))
		}
		if r := total / 50; r < minRecall {
			t.Fatalf("mean recall@10 = %.3f, want ≥ %.3f", r, minRecall)
		}
	})
	t.Run("versions are separate and droppable", func(t *testing.T) {
		x, p := newIndex(t), uniq(t, "v")
		must(t, x.PutItemVectors(ctx(t), &domain.Model{Version: p + "1", Factors: 1, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1}}))
		must(t, x.PutItemVectors(ctx(t), &domain.Model{Version: p + "2", Factors: 1, Movies: []domain.MovieID{"b"}, ItemFactors: []float32{1}}))
		got, err := x.Nearest(ctx(t), p+"1", []float32{1}, 5, nil)
		must(t, err)
		if !slices.Equal(ids(got), []domain.MovieID{"a"}) {
			t.Fatalf("version 1 = %v", ids(got))
		}
		must(t, x.DropVersion(ctx(t), p+"1"))
		if _, err := x.Nearest(ctx(t), p+"1", []float32{1}, 5, nil); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("dropped version: err = %v, want ErrNotFound", err)
		}
	})
}

func randomModel(version string, n, k int, seed uint64) *domain.Model {
	r := rand.New(rand.NewPCG(seed, 7))
	m := &domain.Model{Version: version, Factors: k, Movies: make([]domain.MovieID, n), ItemFactors: make([]float32, n*k)}
	for i := range m.Movies {
		m.Movies[i] = domain.MovieID(fmt.Sprintf("m%05d", i))
	}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(r.NormFloat64())
	}
	return m
}

func randomVec(k int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, k)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func exactTop(m *domain.Model, q []float32, k int, exclude domain.MovieSet) []domain.MovieID {
	type s struct {
		id domain.MovieID
		v  float64
	}
	var all []s
	for i, id := range m.Movies {
		if exclude.Has(id) {
			continue
		}
		var dot float64
		for j, x := range m.Row(i) {
			dot += float64(x) * float64(q[j])
		}
		all = append(all, s{id, dot})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].v > all[b].v })
	out := make([]domain.MovieID, 0, k)
	for _, e := range all[:min(k, len(all))] {
		out = append(out, e.id)
	}
	return out
}

func recall(got, want []domain.MovieID) float64 {
	hit := 0
	for _, w := range want {
		if slices.Contains(got, w) {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

func assertRecall(t *testing.T, got, want []domain.MovieID, min float64) {
	t.Helper()
	if r := recall(got, want); r < min {
		t.Fatalf("recall = %.2f (got %v, exact %v), want ≥ %.2f", r, got, want, min)
	}
}
