package als

import (
	"errors"
	"fmt"
	"math"

	"github.com/marquee-recsys/marquee/domain"
)

// The conjugate-gradient row solve of Takács, Pilászy and Tikk (2011),
// "Applications of the conjugate gradient method for implicit feedback
// collaborative filtering". A row's normal equations are A·x = b with
//
//	A = YᵀY + Σ_{i∈I_u} (c_i−1)·y_i·y_iᵀ + λI,   b = Σ_{i∈I_u} c_i·p_i·y_i,
//
// and CG needs A only through products A·v, which cost O(K²) for the Gram
// part plus O(n·K) for the n observed columns, instead of the O(n·K²) that
// forming A costs. Warm-started from the row's value of the previous
// iteration, which is already close to the solution once training has
// settled, a few steps (DefaultCGSteps) reach the accuracy that matters for
// ranking at a fraction of the exact solve's cost.
//
// CG minimises f(x) = ½xᵀAx − bᵀx over a growing Krylov space around the
// starting point, so f never increases from one step to the next; since a
// row's term of the ALS objective is 2·f(x) plus a constant, a CG half-step
// never increases the training loss either (float32 storage aside), just
// as an exact solve does not.

// cg refines dst, the row's current value, with steps conjugate-gradient
// steps on its normal equations, for observed columns cols with summed
// weights vals against the fixed factors y whose Gram matrix is gram.
// Columns must be distinct and within y. A row without a positive weight
// has b = 0 and so the exact solution 0, which cg writes directly.
func (s *solver) cg(dst []float32, cols []int32, vals []float32, y *Factors, gram []float64, alpha, lambda float64, steps int) error {
	k := s.k
	// Gather the observed rows in float64 once: every step reads them twice
	// (y_i·v, then the update), and converting on each read would cost as
	// much as the arithmetic. Only columns that contribute are kept: those
	// with c−1 > 0 enter A, the positive ones also b.
	s.ws = s.ws[:0]
	s.bs = s.bs[:0]
	positive := false
	for j, c := range cols {
		if uint(c) >= uint(y.N) {
			return fmt.Errorf("als: column %d outside %d factor rows: %w", c, y.N, domain.ErrInvalid)
		}
		r := float64(vals[j])
		conf := alpha * math.Abs(r) // c − 1
		cp := 0.0                   // c·p
		if r > 0 {
			cp = 1 + conf
			positive = true
		}
		if conf == 0 && cp == 0 {
			continue // c = 1, p = 0: the Gram matrix already accounts for it
		}
		n := len(s.ws)
		if need := (n + 1) * k; need > len(s.gather) {
			grown := make([]float64, max(need, 2*len(s.gather)))
			copy(grown, s.gather)
			s.gather = grown
		}
		yj := s.gather[n*k : n*k+k]
		for q, v := range y.Data[int(c)*k : int(c)*k+k] {
			yj[q] = float64(v)
		}
		s.ws = append(s.ws, conf)
		s.bs = append(s.bs, cp)
	}
	if !positive {
		clear(dst)
		return nil
	}
	ys := s.gather[:len(s.ws)*k]
	x, r, p, ap := s.b, s.r, s.p, s.ap
	for q, v := range dst {
		x[q] = float64(v)
	}
	// r = b − A·x, with b and the observed part of A·x in one pass:
	// column i adds (c_i·p_i − (c_i−1)·y_iᵀx)·y_i.
	s.gramMul(r, gram, lambda, x)
	for q := range r {
		r[q] = -r[q]
	}
	for j, w := range s.ws {
		yj := ys[j*k : j*k+k]
		axpy(s.bs[j]-w*dot(yj, x), yj, r)
	}
	copy(p, r)
	rs := dot(r, r)
	for step := 0; step < steps && rs > 0 && !math.IsInf(rs, 0); step++ {
		s.mul(ap, gram, lambda, ys, p)
		pap := dot(p, ap)
		if math.IsNaN(pap) || math.IsInf(pap, 0) {
			return errNotFinite
		}
		if pap <= 0 {
			break // A is positive definite: p has vanished in rounding
		}
		a := rs / pap
		axpy(a, p, x)
		axpy(-a, ap, r)
		next := dot(r, r)
		beta := next / rs
		rs = next
		for q := range p {
			p[q] = r[q] + beta*p[q]
		}
	}
	if math.IsNaN(rs) || math.IsInf(rs, 0) {
		return errNotFinite
	}
	for q, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errNotFinite
		}
		dst[q] = float32(v)
	}
	return nil
}

// errNotFinite reports a solve that met infinite or NaN values, which only
// non-finite factors can cause: weights are checked when a Matrix is built.
var errNotFinite = errors.New("als: non-finite values in the normal equations (non-finite factors?)")

// mul sets dst = A·v for the row whose gathered columns are ys with
// weights c−1 in s.ws.
func (s *solver) mul(dst, gram []float64, lambda float64, ys, v []float64) {
	k := s.k
	s.gramMul(dst, gram, lambda, v)
	for j, w := range s.ws {
		yj := ys[j*k : j*k+k]
		axpy(w*dot(yj, v), yj, dst)
	}
}

// gramMul sets dst = (G + λI)·v for the symmetric k×k matrix G.
func (s *solver) gramMul(dst, gram []float64, lambda float64, v []float64) {
	k := s.k
	for a := range dst {
		dst[a] = dot(gram[a*k:a*k+k], v) + lambda*v[a]
	}
}

// axpy adds a·x to y.
func axpy(a float64, x, y []float64) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}
