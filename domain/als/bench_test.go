package als

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// ml100kShape is a random matrix of MovieLens-100K's shape and density.
func ml100kShape(b *testing.B) *Matrix {
	return randomMatrix(b, 943, 1682, 100_000.0/(943*1682), 0.05, 1)
}

func BenchmarkTrain(b *testing.B) {
	m := ml100kShape(b)
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			p := DefaultParams()
			p.Iterations = 3
			p.Workers = workers
			for b.Loop() {
				if _, _, err := Train(b.Context(), m, p, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*p.Iterations), "ms/iteration")
		})
	}
}

// benchFolder returns a model of 1682 items at K=64 and a 100-item history.
func benchFolder(b *testing.B) (*ModelFolder, []int32, []float32, map[domain.MovieID]float64) {
	const k, n = 64, 100
	items := RandomFactors(1682, k, 1)
	for i := range items.Data {
		items.Data[i] *= 30 // trained-factor magnitudes
	}
	movies := make([]domain.MovieID, items.N)
	for i := range movies {
		movies[i] = domain.MovieID(fmt.Sprintf("m%d", i))
	}
	model, err := ModelFromFactors("bench", movies, items, DefaultParams(), time.Unix(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	mf, err := FolderFromModel(model)
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]int32, n)
	vals := make([]float32, n)
	weights := map[domain.MovieID]float64{}
	for j := range cols {
		cols[j] = int32(j * 16)
		vals[j] = float32(j%5 + 1)
		weights[movies[cols[j]]] = float64(vals[j])
	}
	return mf, cols, vals, weights
}

func BenchmarkFoldIn(b *testing.B) {
	mf, cols, vals, weights := benchFolder(b)
	b.Run("FoldInto", func(b *testing.B) {
		dst := make([]float32, mf.K())
		b.ReportAllocs()
		for b.Loop() {
			if err := mf.FoldInto(dst, cols, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FoldIn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mf.FoldIn(cols, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FoldInMovies", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mf.FoldInMovies(weights); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// gramGonum is Gram with gonum's Dsyrk on float64 copies of row blocks, the
// alternative BenchmarkGram measures.
func gramGonum(f *Factors, block int) []float64 {
	k := f.K
	g := make([]float64, k*k)
	ys := make([]float64, block*k)
	for lo := 0; lo < f.N; lo += block {
		hi := min(lo+block, f.N)
		src := f.Data[lo*k : hi*k]
		for j, v := range src {
			ys[j] = float64(v)
		}
		blas64.Implementation().Dsyrk(blas.Lower, blas.Trans, k, hi-lo, 1, ys[:len(src)], k, 1, g, k)
	}
	mirrorLower(g, k)
	return g
}

func BenchmarkGram(b *testing.B) {
	for _, n := range []int{1682, 20_000} {
		f := RandomFactors(n, 64, 1)
		b.Run(fmt.Sprintf("hand/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Gram(f)
			}
		})
		for _, block := range []int{32, 256} {
			b.Run(fmt.Sprintf("gonum-Dsyrk-block%d/n=%d", block, n), func(b *testing.B) {
				for b.Loop() {
					gramGonum(f, block)
				}
			})
		}
	}
}

// BenchmarkSyrk measures the inner kernel of a row solve: adding 100
// weighted rank-1 terms (one user's interactions) to a 64×64 matrix.
func BenchmarkSyrk(b *testing.B) {
	const k, n = 64, 100
	f := RandomFactors(n, k, 1)
	ys := make([]float64, n*k)
	for i, v := range f.Data {
		ys[i] = float64(v)
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = float64(i%5 + 1)
	}
	a := make([]float64, k*k)
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			for lo := 0; lo < n; lo += gatherRows {
				hi := min(lo+gatherRows, n)
				syrkLower(a, k, ys[lo*k:hi*k], w[lo:hi])
			}
		}
	})
	b.Run("gonum-Dsyrk", func(b *testing.B) {
		// Dsyrk has no per-row weights: the rows are pre-scaled by √w,
		// which the real solver would have to do too.
		scaled := make([]float64, len(ys))
		for b.Loop() {
			for i := 0; i < n; i++ {
				s := math.Sqrt(w[i])
				for q := 0; q < k; q++ {
					scaled[i*k+q] = s * ys[i*k+q]
				}
			}
			for lo := 0; lo < n; lo += gatherRows {
				hi := min(lo+gatherRows, n)
				blas64.Implementation().Dsyrk(blas.Lower, blas.Trans, k, hi-lo, 1, scaled[lo*k:hi*k], k, 1, a, k)
			}
		}
	})
}

func BenchmarkCholesky(b *testing.B) {
	const k = 64
	spd, rhs := randomSPD(k, 1)
	a := make([]float64, k*k)
	x := make([]float64, k)
	inv := make([]float64, k)
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			copy(a, spd)
			copy(x, rhs)
			if !cholesky(a, k, inv) {
				b.Fatal("not positive definite")
			}
			cholSolve(a, k, inv, x)
		}
	})
	b.Run("gonum-Potrf-Potrs", func(b *testing.B) {
		for b.Loop() {
			copy(a, spd)
			copy(x, rhs)
			t, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: k, Stride: k, Data: a})
			if !ok {
				b.Fatal("not positive definite")
			}
			lapack64.Potrs(t, blas64.General{Rows: k, Cols: 1, Stride: 1, Data: x})
		}
	})
}

func BenchmarkTopK(b *testing.B) {
	items := RandomFactors(1682, 64, 1)
	v := RandomFactors(1, 64, 2).Row(0)
	b.ReportAllocs()
	for b.Loop() {
		TopK(items, v, 10, nil)
	}
}
