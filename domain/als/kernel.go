package als

import "math"

// The two dense kernels of ALS are hand-written: at the sizes ALS uses they
// beat gonum's pure-Go BLAS and LAPACK, which pay call overhead on short
// vectors (figures below; bench_test.go has the comparisons). Both work on
// the lower triangle of a row-major K×K matrix, where every inner loop runs
// over a contiguous row.

// syrkLower adds Σ_j w[j]·y_j·y_jᵀ to the lower triangle (q ≤ p) of the
// row-major k×k matrix a, where y_j = ys[j*k:(j+1)*k]. It is the weighted
// symmetric rank-n update that both the Gram matrix and every row solve are
// made of. Rows are taken four at a time so that each element of a is
// loaded and stored once per four rank-1 updates instead of once per update.
//
// Medians of 6 runs on a 2-vCPU Xeon VM (go1.26, GOAMD64=v1): BenchmarkSyrk
// (100 weighted rows, K=64) this kernel 76 µs ±11%, gonum Dsyrk on √w-scaled
// rows 81 µs ±8%. BenchmarkGram (unweighted, K=64) is a tie within the VM's
// noise: 1.41 ms ±9% vs Dsyrk 1.38 ms ±7% for 1,682 rows, 16.3 ms ±22% vs
// 15.8 ms ±5% for 20,000 rows; Gram is under 1% of an iteration, so it
// keeps this kernel rather than a second code path. Both run at about one
// multiply-add per cycle, the scalar limit: going faster needs SIMD or FMA
// (GOAMD64=v3 lets the compiler fuse multiply-adds).
func syrkLower(a []float64, k int, ys, w []float64) {
	n := len(w)
	j := 0
	for ; j+4 <= n; j += 4 {
		y0 := ys[j*k : j*k+k]
		y1 := ys[(j+1)*k : (j+1)*k+k]
		y2 := ys[(j+2)*k : (j+2)*k+k]
		y3 := ys[(j+3)*k : (j+3)*k+k]
		w0, w1, w2, w3 := w[j], w[j+1], w[j+2], w[j+3]
		for p := 0; p < k; p++ {
			a0, a1, a2, a3 := w0*y0[p], w1*y1[p], w2*y2[p], w3*y3[p]
			row := a[p*k : p*k+p+1]
			r0, r1, r2, r3 := y0[:len(row)], y1[:len(row)], y2[:len(row)], y3[:len(row)]
			for q := range row {
				row[q] += a0*r0[q] + a1*r1[q] + a2*r2[q] + a3*r3[q]
			}
		}
	}
	for ; j < n; j++ {
		y := ys[j*k : j*k+k]
		wj := w[j]
		for p := 0; p < k; p++ {
			s := wj * y[p]
			row := a[p*k : p*k+p+1]
			r := y[:len(row)]
			for q := range row {
				row[q] += s * r[q]
			}
		}
	}
}

// mirrorLower copies the lower triangle of the k×k matrix a to the upper.
func mirrorLower(a []float64, k int) {
	for p := 1; p < k; p++ {
		for q := 0; q < p; q++ {
			a[q*k+p] = a[p*k+q]
		}
	}
}

// cholesky overwrites the lower triangle of the symmetric positive definite
// row-major k×k matrix a with L such that a = L·Lᵀ, stores 1/L_ii in inv
// (length k) for cholSolve, and reports false if a is not numerically
// positive definite. It is the row-by-row (Cholesky–Banachiewicz) order, in
// which every inner loop is a dot product of two contiguous rows of L, two
// columns at a time so that each load of row i serves two products; the
// reciprocal diagonal turns k²/2 divisions into multiplications.
//
// BenchmarkCholesky (factor and solve, K=64, same machine, medians): this
// 23 µs ±17%; gonum lapack64.Potrf+Potrs 29 µs ±12%; the right-looking
// outer-product form first written here 44 µs, a one-column dot-product
// version 31 µs.
func cholesky(a []float64, k int, inv []float64) bool {
	for i := 0; i < k; i++ {
		ri := a[i*k : i*k+i+1]
		j := 0
		for ; j+1 < i; j += 2 {
			x := ri[:j]
			r0 := a[j*k : j*k+j]
			r1 := a[(j+1)*k : (j+1)*k+j+1]
			r1h := r1[:j]
			var s0, s1, t0, t1 float64
			q := 0
			for ; q+2 <= len(x); q += 2 {
				s0 += x[q] * r0[q]
				s1 += x[q+1] * r0[q+1]
				t0 += x[q] * r1h[q]
				t1 += x[q+1] * r1h[q+1]
			}
			for ; q < len(x); q++ {
				s0 += x[q] * r0[q]
				t0 += x[q] * r1h[q]
			}
			lj := (ri[j] - (s0 + s1)) * inv[j]
			ri[j] = lj
			ri[j+1] = (ri[j+1] - (t0 + t1) - lj*r1[j]) * inv[j+1]
		}
		for ; j < i; j++ {
			ri[j] = (ri[j] - dot(ri[:j], a[j*k:j*k+j])) * inv[j]
		}
		s := ri[i] - dot(ri[:i], ri[:i])
		if !(s > 0) || math.IsInf(s, 0) { // also rejects NaN
			return false
		}
		d := math.Sqrt(s)
		ri[i] = d
		inv[i] = 1 / d
	}
	return true
}

// cholSolve solves L·Lᵀ·x = b in place (b becomes x) for the factor L left
// in the lower triangle of a, and its reciprocal diagonal inv, by cholesky.
func cholSolve(a []float64, k int, inv, b []float64) {
	// Forward, L·z = b: row i of L against the z found so far.
	for i := 0; i < k; i++ {
		b[i] = (b[i] - dot(a[i*k:i*k+i], b[:i])) * inv[i]
	}
	// Backward, Lᵀ·x = z: column i of Lᵀ is row i of L, so eliminate x_i
	// from the earlier equations with one contiguous axpy.
	for i := k - 1; i >= 0; i-- {
		x := b[i] * inv[i]
		b[i] = x
		ri := a[i*k : i*k+i]
		rest := b[:len(ri)]
		for q := range ri {
			rest[q] -= ri[q] * x
		}
	}
}

// dot is Σ x_i·y_i with four accumulators, which lets consecutive
// multiply-adds overlap instead of waiting on one running sum.
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
