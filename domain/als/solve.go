package als

import (
	"fmt"
	"math"

	"github.com/marquee-recsys/marquee/domain"
)

// gatherRows is how many factor rows a solver converts to float64 before
// handing them to syrkLower: enough to amortise the kernel's setup, small
// enough (16 KB at K=64) to stay in L1 cache.
const gatherRows = 32

// Gram returns fᵀf, the K×K Gram matrix of the factors, row-major in
// float64 with both triangles filled. A half-step computes it once for the
// fixed side and every row solve starts from it, which is what makes the
// cost of a row proportional to its interactions instead of to N.
//
// It runs on one goroutine on purpose: summation order then depends only on
// f, so the model is bit-identical whatever the number of workers.
func Gram(f *Factors) []float64 {
	k := f.K
	g := make([]float64, k*k)
	ys := make([]float64, gatherRows*k)
	ones := make([]float64, gatherRows)
	for i := range ones {
		ones[i] = 1
	}
	for lo := 0; lo < f.N; lo += gatherRows {
		hi := min(lo+gatherRows, f.N)
		src := f.Data[lo*k : hi*k]
		dst := ys[:len(src)]
		for j, v := range src {
			dst[j] = float64(v)
		}
		syrkLower(g, k, dst, ones[:hi-lo])
	}
	mirrorLower(g, k)
	return g
}

// solver holds the scratch of row solves so that a worker solving many rows,
// or a Folder serving many events, allocates once. A solver is used by one
// goroutine at a time.
type solver struct {
	k  int
	a  []float64 // k×k normal-equation matrix, then its Cholesky factor
	b  []float64 // right-hand side, then the solution
	d  []float64 // reciprocal diagonal of the Cholesky factor
	ys []float64 // gathered rows of the fixed side, in float64
	ws []float64 // their weights c−1
	// Conjugate gradient: residual, direction, A·direction, the c·p of
	// every gathered column, and all the row's gathered columns.
	r, p, ap []float64
	bs       []float64
	gather   []float64
}

func newSolver(k int) *solver {
	return &solver{
		k:  k,
		a:  make([]float64, k*k),
		b:  make([]float64, k),
		d:  make([]float64, k),
		ys: make([]float64, gatherRows*k),
		ws: make([]float64, 0, gatherRows),
		r:  make([]float64, k),
		p:  make([]float64, k),
		ap: make([]float64, k),
	}
}

// solve writes to dst the exact least-squares vector of one row with
// observed columns cols and summed weights vals against the fixed factors
// y, whose Gram matrix is gram. Columns must be distinct and within y.
func (s *solver) solve(dst []float32, cols []int32, vals []float32, y *Factors, gram []float64, alpha, lambda float64) error {
	k := s.k
	copy(s.a, gram)
	for p := 0; p < k; p++ {
		s.a[p*k+p] += lambda
	}
	clear(s.b)
	s.ws = s.ws[:0]
	for j, c := range cols {
		if uint(c) >= uint(y.N) {
			return fmt.Errorf("als: column %d outside %d factor rows: %w", c, y.N, domain.ErrInvalid)
		}
		r := float64(vals[j])
		conf := alpha * math.Abs(r) // c − 1
		if conf == 0 && r <= 0 {
			continue // p = 0 and c = 1: already accounted for by the Gram matrix
		}
		row := y.Data[int(c)*k : int(c)*k+k]
		n := len(s.ws)
		yj := s.ys[n*k : n*k+k]
		for q, v := range row {
			yj[q] = float64(v)
		}
		if r > 0 {
			cp := 1 + conf // c·p with p = 1
			for q, v := range yj {
				s.b[q] += cp * v
			}
		}
		if conf == 0 {
			continue
		}
		s.ws = append(s.ws, conf)
		if len(s.ws) == gatherRows {
			syrkLower(s.a, k, s.ys, s.ws)
			s.ws = s.ws[:0]
		}
	}
	if len(s.ws) > 0 {
		syrkLower(s.a, k, s.ys[:len(s.ws)*k], s.ws)
	}
	if !cholesky(s.a, k, s.d) {
		return fmt.Errorf("als: normal equations not positive definite (non-finite factors or weights?)")
	}
	cholSolve(s.a, k, s.d, s.b)
	for q, v := range s.b {
		dst[q] = float32(v)
	}
	return nil
}

// solveRows solves rows [lo, hi) of dst from m against other with the
// solver p selects.
func (s *solver) solveRows(dst *Factors, lo, hi int, m *Matrix, other *Factors, gram []float64, p Params) error {
	cg, steps := p.solver() == SolverCG, p.cgSteps()
	for r := lo; r < hi; r++ {
		cols, vals := m.Row(r)
		var err error
		if cg {
			err = s.cg(dst.Row(r), cols, vals, other, gram, p.Alpha, p.Lambda, steps)
		} else {
			err = s.solve(dst.Row(r), cols, vals, other, gram, p.Alpha, p.Lambda)
		}
		if err != nil {
			return fmt.Errorf("als: row %d: %w", r, err)
		}
	}
	return nil
}

// SolveRows updates rows [lo, hi) of dst from rows lo..hi-1 of m against
// the fixed factors other, whose Gram matrix (Gram(other)) is gram. For
// the user half-step m is the user × item matrix, dst the user factors and
// other the item factors; for the item half-step, the transpose and the
// other way round.
//
// With p.Solver "cholesky" each row becomes the exact ALS solution and its
// previous value does not matter. With "cg" (the default) each row is
// refined from its current value by p.CGSteps conjugate-gradient steps, so
// dst must hold the previous iteration's factors (or the initial ones);
// a row without a positive weight becomes exactly zero either way.
//
// It reads m, other and gram and writes only dst's rows [lo, hi), with its
// own scratch, so shards may call it concurrently on disjoint ranges of the
// same dst. Each row's result depends only on its own data, so any split
// into ranges gives bit-identical factors.
func SolveRows(dst *Factors, lo, hi int, m *Matrix, other *Factors, gram []float64, p Params) error {
	if err := checkSolve(dst, m, other, gram, p); err != nil {
		return err
	}
	if lo < 0 || hi > m.Rows || lo > hi {
		return fmt.Errorf("als: rows [%d, %d) outside %d rows: %w", lo, hi, m.Rows, domain.ErrInvalid)
	}
	return newSolver(dst.K).solveRows(dst, lo, hi, m, other, gram, p)
}

// checkSolve validates the shapes SolveRows and Train index by. It does not
// scan m: column indices are checked as rows are solved.
func checkSolve(dst *Factors, m *Matrix, other *Factors, gram []float64, p Params) error {
	if err := dst.validate("solved"); err != nil {
		return err
	}
	if err := other.validate("fixed"); err != nil {
		return err
	}
	switch {
	case m == nil || len(m.Indptr) != m.Rows+1:
		return fmt.Errorf("als: matrix missing or without row pointers: %w", domain.ErrInvalid)
	case dst.N != m.Rows || other.N != m.Cols:
		return fmt.Errorf("als: %d×%d matrix against %d solved and %d fixed rows: %w",
			m.Rows, m.Cols, dst.N, other.N, domain.ErrInvalid)
	case dst.K != other.K || dst.K != p.Factors || len(gram) != dst.K*dst.K:
		return fmt.Errorf("als: factor lengths %d and %d, params %d, Gram %d values: %w",
			dst.K, other.K, p.Factors, len(gram), domain.ErrInvalid)
	}
	return p.Validate()
}
