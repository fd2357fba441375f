package als

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

func TestLossNonIncreasing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		neg  float64
		p    func(*Params)
	}{
		{"positive weights", 0, func(*Params) {}},
		{"with dislikes", 0.15, func(*Params) {}},
		{"alpha 40", 0.05, func(p *Params) { p.Alpha = 40 }},
		{"strong regularisation", 0.05, func(p *Params) { p.Lambda = 5 }},
	}
	for _, tt := range tests {
		for _, solver := range []string{SolverCG, SolverCholesky} {
			t.Run(tt.name+"/"+solver, func(t *testing.T) {
				t.Parallel()
				m := randomMatrix(t, 150, 120, 0.05, tt.neg, 21)
				p := testParams(10)
				p.Iterations = 12
				p.Solver = solver
				tt.p(&p)
				var losses []float64
				_, _, err := Train(t.Context(), m, p, func(pr Progress) {
					if pr.Iteration != len(losses)+1 || pr.Iterations != p.Iterations {
						t.Errorf("progress %d/%d after %d reports", pr.Iteration, pr.Iterations, len(losses))
					}
					losses = append(losses, pr.Loss)
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(losses) != p.Iterations {
					t.Fatalf("%d progress reports, want %d", len(losses), p.Iterations)
				}
				for i := 1; i < len(losses); i++ {
					// An exact half-step minimises every row's term, and CG
					// warm-started from the row's value never increases it
					// (cg.go); only float32 rounding of the stored factors
					// can add a hair.
					if losses[i] > losses[i-1]*(1+1e-6) {
						t.Errorf("loss rose at iteration %d: %g → %g (all: %v)", i+1, losses[i-1], losses[i], losses)
					}
				}
				if !(losses[len(losses)-1] < losses[0]) {
					t.Errorf("loss did not decrease: %v", losses)
				}
			})
		}
	}
}

func TestLossMatchesBruteForce(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 25, 18, 0.2, 0.2, 4)
	p := testParams(5)
	users, items := mustTrain(t, m, p)
	got, err := Loss(m, users, items, p)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for u := 0; u < m.Rows; u++ {
		r := make([]float64, m.Cols)
		cols, vals := m.Row(u)
		for j, c := range cols {
			r[c] = float64(vals[j])
		}
		for i := 0; i < m.Cols; i++ {
			pref := 0.0
			if r[i] > 0 {
				pref = 1
			}
			c := 1 + p.Alpha*math.Abs(r[i])
			s := 0.0
			for q := 0; q < p.Factors; q++ {
				s += float64(users.Row(u)[q]) * float64(items.Row(i)[q])
			}
			want += c * (pref - s) * (pref - s)
		}
	}
	want += p.Lambda * (sqNorm(users.Data) + sqNorm(items.Data))
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("Loss = %.12g, brute force %.12g", got, want)
	}
}

func TestTrainDeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	for _, solver := range []string{SolverCG, SolverCholesky} {
		t.Run(solver, func(t *testing.T) {
			t.Parallel()
			testDeterministicAcrossWorkers(t, solver)
		})
	}
}

func testDeterministicAcrossWorkers(t *testing.T, solver string) {
	m := randomMatrix(t, 300, 200, 0.04, 0.1, 8)
	run := func(workers int) (*Factors, *Factors, []float64) {
		p := testParams(12)
		p.Solver = solver
		p.Workers = workers
		p.Iterations = 4
		var losses []float64
		u, i, err := Train(t.Context(), m, p, func(pr Progress) { losses = append(losses, pr.Loss) })
		if err != nil {
			t.Fatal(err)
		}
		return u, i, losses
	}
	u1, i1, l1 := run(1)
	for _, w := range []int{3, 4} {
		u, i, l := run(w)
		if !slices.Equal(u.Data, u1.Data) || !slices.Equal(i.Data, i1.Data) {
			t.Errorf("Workers=%d: factors differ from Workers=1", w)
		}
		if !slices.Equal(l, l1) {
			t.Errorf("Workers=%d: losses %v differ from Workers=1 %v", w, l, l1)
		}
	}
	p := testParams(12)
	p.Solver = solver
	p.Seed++
	u2, _ := mustTrain(t, m, p)
	if slices.Equal(u2.Data, u1.Data) {
		t.Error("a different seed gave the same factors")
	}
}

func TestTrainEdgeShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rows, cols int
		ts         []Triplet
	}{
		{"no users", 0, 4, nil},
		{"no items", 3, 0, nil},
		{"no interactions", 3, 4, nil},
		{"one interaction", 3, 4, []Triplet{{1, 2, 5}}},
		{"only a dislike", 2, 2, []Triplet{{0, 1, -4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := FromTriplets(tt.rows, tt.cols, tt.ts)
			if err != nil {
				t.Fatal(err)
			}
			p := testParams(3)
			users, items, err := Train(t.Context(), m, p, func(pr Progress) {
				if math.IsNaN(pr.Loss) || pr.Loss < 0 {
					t.Errorf("iteration %d: loss %g", pr.Iteration, pr.Loss)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if users.N != tt.rows || items.N != tt.cols || users.K != 3 || items.K != 3 {
				t.Errorf("factors %d×%d and %d×%d", users.N, users.K, items.N, items.K)
			}
			// Without a positive interaction the optimum is all zeros.
			positive := slices.ContainsFunc(tt.ts, func(x Triplet) bool { return x.Weight > 0 })
			zero := !slices.ContainsFunc(users.Data, func(v float32) bool { return v != 0 })
			if !positive && !zero {
				t.Errorf("user factors %v, want zeros", users.Data)
			}
		})
	}
}

func TestTrainCancelled(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 100, 80, 0.05, 0, 2)
	ctx, cancel := context.WithCancel(t.Context())
	p := testParams(4)
	p.Iterations = 50
	_, _, err := Train(ctx, m, p, func(pr Progress) {
		if pr.Iteration == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Train after cancel = %v, want context.Canceled", err)
	}
}

func TestTrainRejects(t *testing.T) {
	t.Parallel()
	bad := &Matrix{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{5}, Data: []float32{1}}
	tests := []struct {
		name string
		m    *Matrix
		p    Params
	}{
		{"nil matrix", nil, DefaultParams()},
		{"corrupt matrix", bad, DefaultParams()},
		{"bad params", randomMatrix(t, 3, 3, 0.5, 0, 1), Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := Train(t.Context(), tt.m, tt.p, nil); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("Train() = %v, want domain.ErrInvalid", err)
			}
		})
	}
}

// A dislike is a confident "not preferred": folding it in must push the
// item below where it stood when the user had never seen it. (A like is not
// the mirror image: it pulls the score towards 1, so it can lower an item
// already scored above 1.)
func TestDislikeLowersScore(t *testing.T) {
	t.Parallel()
	m, _ := planted(t, 5)
	p := testParams(16)
	users, items := mustTrain(t, m, p)
	folder, err := NewFolder(items, p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		weight float32
	}{
		{"dislike", -4},
		{"weak dislike", -1},
		{"strong dislike", -20},
	}
	for u := 0; u < 20; u++ {
		cols, vals := m.Row(u)
		// The best unseen item: the one a dislike would most likely hit.
		top := TopK(items, users.Row(u), 1, seenBy(m, u))[0]
		for _, tt := range tests {
			c, v := slices.Clone(cols), slices.Clone(vals)
			at, _ := slices.BinarySearch(c, top.Index)
			c, v = slices.Insert(c, at, top.Index), slices.Insert(v, at, tt.weight)
			x, err := folder.FoldIn(c, v)
			if err != nil {
				t.Fatal(err)
			}
			after := dot32(x, items.Row(int(top.Index)))
			if !(after < top.Score) {
				t.Errorf("user %d, %s on item %d: score %g → %g", u, tt.name, top.Index, top.Score, after)
			}
		}
	}
}

func TestLearnsPlantedClusters(t *testing.T) {
	t.Parallel()
	train, test := planted(t, 9)
	p := testParams(16)
	users, items := mustTrain(t, train, p)
	als := evaluate(test, 10, alsRanker(train, users, items, 10))
	pop := evaluate(test, 10, popularityRanker(train, 10))
	t.Logf("hit rate@10: ALS %.3f, popularity %.3f", als.hitRate, pop.hitRate)
	if als.hitRate < pop.hitRate+0.15 || als.hitRate < 1.5*pop.hitRate {
		t.Errorf("ALS hit rate@10 %.3f is not clearly above popularity %.3f", als.hitRate, pop.hitRate)
	}
}

// planted generates implicit feedback with latent structure: users and
// items fall in four clusters, users mostly interact with their cluster's
// items (popular ones more often) and sometimes with anything popular. One
// positive item per user is held out as test.
func planted(t testing.TB, seed uint64) (*Matrix, [][]int32) {
	t.Helper()
	const users, items, clusters = 400, 240, 4
	rng := rand.New(rand.NewPCG(seed, 3))
	// Popularity falls off as a power of an item's rank within its cluster.
	pop := make([]float64, items)
	for i := range pop {
		pop[i] = math.Pow(float64(i/clusters+1), -0.7)
	}
	pick := func(cluster int) int {
		total := 0.0
		for i := range pop {
			if cluster < 0 || i%clusters == cluster {
				total += pop[i]
			}
		}
		x := rng.Float64() * total
		for i := range pop {
			if cluster < 0 || i%clusters == cluster {
				if x -= pop[i]; x <= 0 {
					return i
				}
			}
		}
		return items - 1
	}
	var b Builder
	test := make([][]int32, users)
	for u := 0; u < users; u++ {
		hist := map[int]float64{}
		for n := 15 + rng.IntN(15); len(hist) < n; {
			i := pick(-1)
			if rng.Float64() < 0.85 {
				i = pick(u % clusters)
			}
			hist[i] += float64(1 + rng.IntN(5))
		}
		ids := make([]int, 0, len(hist))
		for i := range hist {
			ids = append(ids, i)
		}
		slices.Sort(ids)
		held := ids[rng.IntN(len(ids))]
		test[u] = []int32{int32(held)}
		for _, i := range ids {
			if i != held {
				b.Add(u, i, hist[i])
			}
		}
	}
	m, err := b.Build(users, items)
	if err != nil {
		t.Fatal(err)
	}
	return m, test
}

// TestZeroWeightIsUnobserved: an entry whose summed weight is 0 (a
// rating below the positive threshold, a like and a dislike that cancel)
// has preference 0 at confidence 1, which is what every unobserved pair
// gets: training and the fold-in must give bit for bit the factors of the
// matrix without it. The entry only marks the movie as seen.
func TestZeroWeightIsUnobserved(t *testing.T) {
	t.Parallel()
	base := randomMatrix(t, 120, 80, 0.08, 0.1, 31)
	r := rand.New(rand.NewPCG(5, 6))
	var with Builder
	for u := 0; u < base.Rows; u++ {
		cols, vals := base.Row(u)
		for j, c := range cols {
			with.Add(u, int(c), float64(vals[j]))
		}
		for range 3 { // zero-weight entries on columns the row may lack
			with.Add(u, r.IntN(base.Cols), 0)
		}
	}
	withZeros, err := with.Build(base.Rows, base.Cols)
	if err != nil {
		t.Fatal(err)
	}
	if withZeros.NNZ() <= base.NNZ() {
		t.Fatal("no zero-weight entry was added")
	}
	for _, solver := range []string{SolverCG, SolverCholesky} {
		t.Run(solver, func(t *testing.T) {
			t.Parallel()
			p := testParams(8)
			p.Solver = solver
			u0, i0 := mustTrain(t, base, p)
			u1, i1 := mustTrain(t, withZeros, p)
			if !slices.Equal(u0.Data, u1.Data) || !slices.Equal(i0.Data, i1.Data) {
				t.Fatal("zero-weight entries changed the factors")
			}
			f, err := NewFolder(i1, p)
			if err != nil {
				t.Fatal(err)
			}
			for u := 0; u < base.Rows; u++ {
				cols, vals := withZeros.Row(u)
				v, err := f.FoldIn(cols, vals)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(v, u1.Row(u)) {
					t.Fatalf("user %d: fold-in with zero-weight entries differs from the trained vector", u)
				}
			}
		})
	}
}
