package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// ml100kShape is a random matrix of MovieLens-100K's shape and density.
func ml100kShape(b testing.TB) *Matrix {
	return randomMatrix(b, 943, 1682, 100_000.0/(943*1682), 0.05, 1)
}

// powerLawMatrix returns a users × items matrix of about nnz interactions
// (weights 1..5) whose item popularity follows Zipf's law with exponent 1
// and whose user activity is heavy-tailed: the skew of real data, which
// decides how unevenly rows cost.
func powerLawMatrix(b testing.TB, users, items, nnz int, seed uint64) *Matrix {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	cum := make([]float64, items)
	total := 0.0
	for i := range cum {
		total += 1 / float64(i+1)
		cum[i] = total
	}
	var bld Builder
	bld.Grow(nnz)
	for range nnz {
		// Activity: user u is drawn with probability ∝ 1/(u+10).
		u := int(float64(users+10)*math.Pow(rng.Float64(), 2)) % users
		i, _ := slices.BinarySearch(cum, rng.Float64()*total)
		bld.Add(u, min(i, items-1), float64(1+rng.IntN(5)))
	}
	m, err := bld.Build(users, items)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkIteration measures one ALS iteration (an item half-step and a
// user half-step, in parallel on every CPU) with each solver, from factors
// after two iterations, on MovieLens-100K's shape and on a synthetic
// matrix of a million interactions.
func BenchmarkIteration(b *testing.B) {
	shapes := []struct {
		name string
		m    func(testing.TB) *Matrix
	}{
		{"ml100k", ml100kShape},
		{"synthetic1M", func(tb testing.TB) *Matrix { return powerLawMatrix(tb, 20_000, 10_000, 1_000_000, 1) }},
	}
	for _, shape := range shapes {
		m := shape.m(b)
		mt := m.Transpose()
		for _, solver := range []string{SolverCG, SolverCholesky} {
			b.Run(fmt.Sprintf("%s/%s", shape.name, solver), func(b *testing.B) {
				p := DefaultParams()
				p.Iterations = 2
				p.Solver = solver
				users, items, err := Train(b.Context(), m, p, nil)
				if err != nil {
					b.Fatal(err)
				}
				ub, ib, w := blocks(m, p.Factors), blocks(mt, p.Factors), p.workers()
				cpu := cpuTime()
				for b.Loop() {
					if err := solveAll(b.Context(), items, ib, mt, users, Gram(users), p, w); err != nil {
						b.Fatal(err)
					}
					if err := solveAll(b.Context(), users, ub, m, items, Gram(items), p, w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/iteration")
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/iteration")
			})
		}
	}
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

// benchFolder returns a folder over 20,000 items at K=64 with trained-
// factor magnitudes, and an n-item history with graded weights.
func benchFolder(b *testing.B, n int) (*ModelFolder, []int32, []float32, map[domain.MovieID]float64) {
	const k, nItems = 64, 20_000
	items := RandomFactors(nItems, k, 1)
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
		cols[j] = int32(j * (nItems / n))
		vals[j] = float32(j%5 + 1)
		weights[movies[cols[j]]] = float64(vals[j])
	}
	return mf, cols, vals, weights
}

// BenchmarkFoldIn measures the exact fold-in of one user's history of 10,
// 100 and 1,000 movies against 20,000 items at K=64, the per-event cost of
// the online path. Besides the mean it reports the median and the 99th
// percentile of the individual calls (p50-µs, p99-µs): the target is a p99
// under 1 ms at 100 interactions.
func BenchmarkFoldIn(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		mf, cols, vals, weights := benchFolder(b, n)
		b.Run(fmt.Sprintf("FoldInto/n=%d", n), func(b *testing.B) {
			dst := make([]float32, mf.K())
			durs := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := mf.FoldInto(dst, cols, vals); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			reportPercentiles(b, durs)
		})
		b.Run(fmt.Sprintf("FoldInMovies/n=%d", n), func(b *testing.B) {
			durs := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if _, err := mf.FoldInMovies(weights); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			reportPercentiles(b, durs)
		})
	}
}

// reportPercentiles reports the median and 99th percentile of durs in µs.
func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	at := func(q float64) float64 {
		return float64(durs[min(len(durs)-1, int(q*float64(len(durs))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
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

// BenchmarkTopKBatch measures batch top-100 lists at the scale of batch
// recommendations: 20,000 items at K=64, with 200 seen items per user left
// out. users/s is the figure that matters: 50,000 users must take ≤ 20 s
// on two cores. The "per-user TopK" case is the loop it replaces.
func BenchmarkTopKBatch(b *testing.B) {
	const nItems, k, depth = 20_000, 64, 100
	items := RandomFactors(nItems, k, 1)
	for _, nUsers := range []int{2_000, 50_000} {
		var users *Factors
		var seen *Matrix
		setup := func(b *testing.B) {
			if users == nil {
				users = RandomFactors(nUsers, k, 2)
				seen = randomMatrix(b, nUsers, nItems, 200.0/nItems, 0, 3)
				runtime.GC()
			}
		}
		b.Run(fmt.Sprintf("users=%d", nUsers), func(b *testing.B) {
			setup(b)
			cpu := cpuTime()
			for b.Loop() {
				if _, err := TopKBatch(b.Context(), users, items, nil, depth, seen, 0); err != nil {
					b.Fatal(err)
				}
			}
			// users/cpu-s is the throughput of one core whatever else
			// runs on the machine; wall users/s is that times the cores
			// the benchmark actually got.
			cpuSecs := (cpuTime() - cpu).Seconds()
			b.ReportMetric(float64(nUsers*b.N)/b.Elapsed().Seconds(), "users/s")
			b.ReportMetric(float64(nUsers*b.N)/cpuSecs, "users/cpu-s")
		})
		if nUsers > 2_000 {
			continue
		}
		b.Run(fmt.Sprintf("per-user-TopK/users=%d", nUsers), func(b *testing.B) {
			setup(b)
			for b.Loop() {
				for u := 0; u < nUsers; u++ {
					cols, _ := seen.Row(u)
					TopK(items, users.Row(u), depth, func(i int) bool { _, ok := slices.BinarySearch(cols, int32(i)); return ok })
				}
			}
			b.ReportMetric(float64(nUsers*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
