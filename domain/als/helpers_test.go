package als

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomMatrix returns a rows × cols matrix with about density·rows·cols
// entries of weight 1..5, a fraction neg of them negated (dislikes), and
// every row and column non-empty only by chance: empty rows and columns
// are part of what the solvers must handle.
func randomMatrix(t testing.TB, rows, cols int, density, neg float64, seed uint64) *Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b Builder
	n := int(density * float64(rows*cols))
	for range n {
		w := float64(1 + rng.IntN(5))
		if rng.Float64() < neg {
			w = -w
		}
		b.Add(rng.IntN(rows), rng.IntN(cols), w)
	}
	m, err := b.Build(rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testParams are small, fast parameters for correctness tests.
func testParams(k int) Params {
	p := DefaultParams()
	p.Factors = k
	p.Iterations = 8
	p.Workers = 2
	return p
}

// maxRelDiff returns max_i |a_i − b_i| / ‖b‖₂ (the plain difference when b
// is zero), so that small vectors are not held to an absolute bound.
func maxRelDiff(a, b []float32) float64 {
	norm, diff := 0.0, 0.0
	for i := range b {
		norm += float64(b[i]) * float64(b[i])
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		return diff
	}
	return diff / norm
}

// mustTrain trains or fails the test.
func mustTrain(t testing.TB, m *Matrix, p Params) (*Factors, *Factors) {
	t.Helper()
	u, i, err := Train(t.Context(), m, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u, i
}

// rankMetrics averages precision@k and recall@k (and hit rate: at least one
// held-out item in the top k) over users with held-out items.
type rankMetrics struct{ precision, recall, hitRate float64 }

// evaluate ranks for every user with rank(u) (top-k item indices, seen
// items excluded) and compares with test[u].
func evaluate(test [][]int32, k int, rank func(u int) []int32) rankMetrics {
	var m rankMetrics
	users := 0
	for u, held := range test {
		if len(held) == 0 {
			continue
		}
		users++
		want := map[int32]bool{}
		for _, i := range held {
			want[i] = true
		}
		hits := 0
		for _, i := range rank(u) {
			if want[i] {
				hits++
			}
		}
		m.precision += float64(hits) / float64(k)
		m.recall += float64(hits) / float64(len(held))
		if hits > 0 {
			m.hitRate++
		}
	}
	if users > 0 {
		m.precision /= float64(users)
		m.recall /= float64(users)
		m.hitRate /= float64(users)
	}
	return m
}

// popularityRanker ranks items by their number of positive training
// interactions, excluding the user's training items.
func popularityRanker(train *Matrix, k int) func(u int) []int32 {
	count := make([]float32, train.Cols)
	for j, c := range train.Indices {
		if train.Data[j] > 0 {
			count[c]++
		}
	}
	pop := &Factors{N: train.Cols, K: 1, Data: count}
	return func(u int) []int32 {
		return indices(TopK(pop, []float32{1}, k, seenBy(train, u)))
	}
}

// alsRanker ranks items by the trained user vector, excluding seen items.
func alsRanker(train *Matrix, users, items *Factors, k int) func(u int) []int32 {
	return func(u int) []int32 {
		return indices(TopK(items, users.Row(u), k, seenBy(train, u)))
	}
}

func seenBy(m *Matrix, u int) func(int) bool {
	cols, _ := m.Row(u)
	seen := make(map[int]bool, len(cols))
	for _, c := range cols {
		seen[int(c)] = true
	}
	return func(i int) bool { return seen[i] }
}

func indices(s []Scored) []int32 {
	out := make([]int32, len(s))
	for j, v := range s {
		out[j] = v.Index
	}
	return out
}
