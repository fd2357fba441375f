package als

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"gonum.org/v1/gonum/mat"
)

// referenceSolve solves one row's normal equations the textbook way with
// gonum's dense matrices: A = YᵀC_uY + λI, b = YᵀC_u p(u), over all items.
func referenceSolve(cols []int32, vals []float32, y *Factors, alpha, lambda float64) []float64 {
	n, k := y.N, y.K
	Y := mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		for q, v := range y.Row(i) {
			Y.Set(i, q, float64(v))
		}
	}
	c := make([]float64, n)
	p := make([]float64, n)
	for i := range c {
		c[i] = 1
	}
	for j, col := range cols {
		r := float64(vals[j])
		c[col] = 1 + alpha*math.Abs(r)
		if r > 0 {
			p[col] = 1
		}
	}
	var CY mat.Dense
	CY.Apply(func(i, _ int, v float64) float64 { return c[i] * v }, Y)
	var A mat.Dense
	A.Mul(Y.T(), &CY)
	for q := 0; q < k; q++ {
		A.Set(q, q, A.At(q, q)+lambda)
	}
	var b mat.VecDense
	b.MulVec(CY.T(), mat.NewVecDense(n, p))
	var x mat.VecDense
	if err := x.SolveVec(&A, &b); err != nil {
		panic(err)
	}
	return x.RawVector().Data
}

func TestSolveRowsMatchesReference(t *testing.T) {
	t.Parallel()
	const n, k = 40, 8
	y := RandomFactors(n, k, 3)
	for i := range y.Data {
		y.Data[i] *= 30 // O(0.3) entries, like trained factors
	}
	tests := []struct {
		name  string
		cols  []int32
		vals  []float32
		alpha float64
	}{
		{"no interactions", nil, nil, 10},
		{"one like", []int32{5}, []float32{4}, 10},
		{"several", []int32{0, 3, 7, 8, 20, 39}, []float32{1, 5, 2, 9, 3, 1}, 10},
		{"with dislikes", []int32{1, 2, 4, 30}, []float32{5, -4, 3, -8}, 10},
		{"only dislikes", []int32{1, 2}, []float32{-4, -1}, 10},
		{"summed to zero", []int32{6, 9}, []float32{0, 2}, 10},
		{"alpha zero", []int32{1, 2, 3}, []float32{5, -4, 3}, 0},
		{"more than a gather block", seq(0, 37), ones(37), 2},
	}
	// CG from zero with K steps has converged in exact arithmetic; in
	// float64 it is within rounding of the exact solve. With fewer steps
	// it is not, which TestCGApproachesCholesky measures.
	solvers := []struct {
		solver string
		steps  int
	}{{SolverCholesky, 0}, {SolverCG, k}}
	for _, tt := range tests {
		for _, sv := range solvers {
			t.Run(tt.name+"/"+sv.solver, func(t *testing.T) {
				t.Parallel()
				p := Params{Factors: k, Alpha: tt.alpha, Lambda: 0.1, Iterations: 1, Solver: sv.solver, CGSteps: sv.steps}
				m, err := FromTriplets(1, n, triplets(0, tt.cols, tt.vals))
				if err != nil {
					t.Fatal(err)
				}
				dst := NewFactors(1, k)
				if err := SolveRows(dst, 0, 1, m, y, Gram(y), p); err != nil {
					t.Fatal(err)
				}
				want := referenceSolve(tt.cols, tt.vals, y, tt.alpha, 0.1)
				w32 := make([]float32, k)
				for q, v := range want {
					w32[q] = float32(v)
				}
				if d := maxRelDiff(dst.Row(0), w32); d > 1e-5 {
					t.Errorf("SolveRows = %v\nreference  %v\n(relative difference %g)", dst.Row(0), want, d)
				}
			})
		}
	}
}

func TestSolveRowsRange(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 30, 20, 0.3, 0.1, 11)
	p := testParams(6)
	y := RandomFactors(20, 6, 5)
	g := Gram(y)
	whole := NewFactors(30, 6)
	if err := SolveRows(whole, 0, 30, m, y, g, p); err != nil {
		t.Fatal(err)
	}
	// Shards solve disjoint ranges of the same factors concurrently.
	parts := NewFactors(30, 6)
	var wg sync.WaitGroup
	for _, r := range [][2]int{{0, 7}, {7, 7}, {7, 19}, {19, 30}} {
		wg.Go(func() {
			if err := SolveRows(parts, r[0], r[1], m, y, g, p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range whole.Data {
		if whole.Data[i] != parts.Data[i] {
			t.Fatalf("solving in ranges differs at %d: %g vs %g", i, parts.Data[i], whole.Data[i])
		}
	}
}

func TestSolveRowsRejects(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 5, 4, 0.5, 0, 1)
	p := testParams(3)
	y := RandomFactors(4, 3, 1)
	g := Gram(y)
	bad := &Matrix{Rows: 1, Cols: 4, Indptr: []int{0, 1}, Indices: []int32{9}, Data: []float32{1}}
	tests := []struct {
		name string
		call func() error
	}{
		{"range past the end", func() error { return SolveRows(NewFactors(5, 3), 3, 6, m, y, g, p) }},
		{"inverted range", func() error { return SolveRows(NewFactors(5, 3), 3, 2, m, y, g, p) }},
		{"wrong dst rows", func() error { return SolveRows(NewFactors(4, 3), 0, 1, m, y, g, p) }},
		{"wrong K", func() error { return SolveRows(NewFactors(5, 4), 0, 1, m, y, g, p) }},
		{"short Gram", func() error { return SolveRows(NewFactors(5, 3), 0, 1, m, y, g[:4], p) }},
		{"bad params", func() error { q := p; q.Lambda = 0; return SolveRows(NewFactors(5, 3), 0, 1, m, y, g, q) }},
		{"column outside the factors", func() error { return SolveRows(NewFactors(1, 3), 0, 1, bad, y, g, p) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.call(); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("error = %v, want domain.ErrInvalid", err)
			}
		})
	}
}

func TestSolveRejectsNonFiniteFactors(t *testing.T) {
	t.Parallel()
	for _, solver := range []string{SolverCholesky, SolverCG} {
		for _, bad := range []float64{math.Inf(1), math.NaN()} {
			y := RandomFactors(3, 2, 1)
			y.Data[0] = float32(bad)
			m, _ := FromTriplets(1, 3, []Triplet{{0, 0, 1}})
			p := testParams(2)
			p.Solver = solver
			if err := SolveRows(NewFactors(1, 2), 0, 1, m, y, Gram(y), p); err == nil {
				t.Errorf("%s: solving against a factor %g succeeded", solver, bad)
			}
		}
	}
}

func TestGramMatchesDefinition(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 4, 5, 33, 70} {
		f := RandomFactors(n, 7, int64(n))
		g := Gram(f)
		for a := 0; a < 7; a++ {
			for b := 0; b < 7; b++ {
				want := 0.0
				for i := 0; i < n; i++ {
					want += float64(f.Row(i)[a]) * float64(f.Row(i)[b])
				}
				if math.Abs(g[a*7+b]-want) > 1e-12 {
					t.Fatalf("n=%d: G[%d][%d] = %g, want %g", n, a, b, g[a*7+b], want)
				}
			}
		}
	}
}

func TestCholeskyMatchesGonum(t *testing.T) {
	t.Parallel()
	for _, k := range []int{1, 2, 5, 16, 64} {
		a, b := randomSPD(k, uint64(k))
		s := mat.NewSymDense(k, append([]float64(nil), a...))
		var ch mat.Cholesky
		if !ch.Factorize(s) {
			t.Fatalf("k=%d: gonum says not positive definite", k)
		}
		var want mat.VecDense
		if err := ch.SolveVecTo(&want, mat.NewVecDense(k, append([]float64(nil), b...))); err != nil {
			t.Fatal(err)
		}
		inv := make([]float64, k)
		if !cholesky(a, k, inv) {
			t.Fatalf("k=%d: cholesky failed", k)
		}
		cholSolve(a, k, inv, b)
		for q := 0; q < k; q++ {
			if math.Abs(b[q]-want.AtVec(q)) > 1e-9*(1+math.Abs(want.AtVec(q))) {
				t.Fatalf("k=%d: x[%d] = %g, gonum %g", k, q, b[q], want.AtVec(q))
			}
		}
	}
}

// randomSPD returns a well-conditioned symmetric positive definite k×k
// matrix (MᵀM + kI) and a right-hand side.
func randomSPD(k int, seed uint64) (a, b []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	m := make([]float64, k*k)
	for i := range m {
		m[i] = rng.NormFloat64()
	}
	a = make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			s := 0.0
			for l := 0; l < k; l++ {
				s += m[l*k+i] * m[l*k+j]
			}
			a[i*k+j] = s
		}
		a[i*k+i] += float64(k)
	}
	b = make([]float64, k)
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	return a, b
}

func seq(lo, hi int32) []int32 {
	var s []int32
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func triplets(row int32, cols []int32, vals []float32) []Triplet {
	ts := make([]Triplet, len(cols))
	for j := range cols {
		ts[j] = Triplet{Row: row, Col: cols[j], Weight: vals[j]}
	}
	return ts
}
