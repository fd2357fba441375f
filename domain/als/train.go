package als

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Progress reports one finished iteration of Train.
type Progress struct {
	Iteration  int           // 1-based
	Iterations int           // total planned
	Loss       float64       // full objective after this iteration
	Elapsed    time.Duration // since Train started
}

// Train fits user and item factors to the user × item matrix m.
//
// Users start from RandomFactors(m.Rows, p.Factors, p.Seed) and items from
// zero; every iteration solves all items against the users, then all users
// against those items, each row with p's solver (CG refines the previous
// value). Whatever the solver, the last user half-step is exact (Cholesky,
// p.Exact()): every returned user vector is then exactly the fold-in
// (Folder.FoldIn) of that user's row against the returned item factors, so
// a user's vector does not jump when serving folds them in again. With CG
// this costs one exact half-step per training run, not per iteration. The
// result is bit-identical for a given m and Params whatever Workers is.
//
// progress, if not nil, is called after each iteration from Train's
// goroutine; computing the loss it reports costs about one sparse pass, so
// it is skipped when progress is nil. Cancelling ctx stops training between
// blocks of rows and returns ctx's error.
func Train(ctx context.Context, m *Matrix, p Params, progress func(Progress)) (users, items *Factors, err error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, fmt.Errorf("als: nil matrix: %w", domain.ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	mt := m.Transpose()
	users = RandomFactors(m.Rows, p.Factors, p.Seed)
	items = NewFactors(m.Cols, p.Factors)
	userBlocks, itemBlocks := blocks(m, p.Factors), blocks(mt, p.Factors)
	workers := p.workers()
	exact := p.Exact()
	for it := 1; it <= p.Iterations; it++ {
		if err := solveAll(ctx, items, itemBlocks, mt, users, Gram(users), p, workers); err != nil {
			return nil, nil, fmt.Errorf("als: iteration %d, items: %w", it, err)
		}
		gramY := Gram(items)
		userParams := p
		if it == p.Iterations {
			userParams = exact
		}
		if err := solveAll(ctx, users, userBlocks, m, items, gramY, userParams, workers); err != nil {
			return nil, nil, fmt.Errorf("als: iteration %d, users: %w", it, err)
		}
		if progress == nil {
			continue
		}
		loss, err := lossAll(ctx, m, userBlocks, users, items, gramY, p, workers)
		if err != nil {
			return nil, nil, fmt.Errorf("als: iteration %d, loss: %w", it, err)
		}
		progress(Progress{Iteration: it, Iterations: p.Iterations, Loss: loss, Elapsed: time.Since(start)})
	}
	return users, items, nil
}

// span is a contiguous block of rows [lo, hi), the unit of parallel work.
type span struct{ lo, hi int }

// blocks cuts m's rows into contiguous spans of roughly equal solve cost,
// so that a few heavy rows (power users, blockbusters) do not leave one
// worker finishing alone. The cut depends only on m and k, never on the
// number of workers: per-block partial sums (the loss) then add up in the
// same order however many goroutines computed them.
func blocks(m *Matrix, k int) []span {
	// A row costs K²/2 per interaction (rank-1 update) plus K³/6 (Cholesky):
	// in units of interactions, 1 per interaction plus K/3 per row.
	rowCost := float64(k) / 3
	total := float64(m.NNZ()) + rowCost*float64(m.Rows)
	const maxBlocks = 4096
	const minCost = 4096 // keep scheduling overhead negligible
	target := max(total/maxBlocks, minCost)
	var out []span
	lo, acc := 0, 0.0
	for r := 0; r < m.Rows; r++ {
		acc += float64(m.Indptr[r+1]-m.Indptr[r]) + rowCost
		if acc >= target {
			out = append(out, span{lo, r + 1})
			lo, acc = r+1, 0
		}
	}
	if lo < m.Rows {
		out = append(out, span{lo, m.Rows})
	}
	return out
}

// forBlocks runs fn on every block with up to workers goroutines taking the
// next block from a shared counter, checks ctx before each block and returns
// the first error.
func forBlocks(ctx context.Context, bs []span, workers int, fn func(w int, b int) error) error {
	workers = max(1, min(workers, len(bs)))
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		failed   atomic.Bool
	)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for !failed.Load() {
				b := int(next.Add(1)) - 1
				if b >= len(bs) {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(w, b)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// solveAll is one half-step: every row of dst solved, in parallel by block.
func solveAll(ctx context.Context, dst *Factors, bs []span, m *Matrix, other *Factors, gram []float64, p Params, workers int) error {
	solvers := make([]*solver, max(1, min(workers, len(bs))))
	return forBlocks(ctx, bs, workers, func(w, b int) error {
		if solvers[w] == nil {
			solvers[w] = newSolver(dst.K)
		}
		return solvers[w].solveRows(dst, bs[b].lo, bs[b].hi, m, other, gram, p)
	})
}

// lossAll is Loss computed in parallel by block, summed in block order.
func lossAll(ctx context.Context, m *Matrix, bs []span, users, items *Factors, gramY []float64, p Params, workers int) (float64, error) {
	parts := make([]float64, len(bs))
	err := forBlocks(ctx, bs, workers, func(_, b int) error {
		parts[b] = lossRows(m, bs[b].lo, bs[b].hi, users, items, gramY, p)
		return nil
	})
	if err != nil {
		return 0, err
	}
	total := p.Lambda * sqNorm(items.Data)
	for _, v := range parts {
		total += v
	}
	return total, nil
}

// Loss returns the full objective of Hu et al.,
//
//	Σ_{u,i} c_ui·(p_ui − x_uᵀy_i)² + λ·(Σ_u ‖x_u‖² + Σ_i ‖y_i‖²),
//
// over all users × items, unobserved pairs included, in O(nnz·K + N·K²).
func Loss(m *Matrix, users, items *Factors, p Params) (float64, error) {
	gram := Gram(items)
	v, err := LossRows(m, 0, m.Rows, users, items, gram, p)
	if err != nil {
		return 0, err
	}
	return v + p.Lambda*sqNorm(items.Data), nil
}

// LossRows returns the part of the objective that belongs to users
// [lo, hi): their squared errors against every item, observed or not, plus
// λ·‖x_u‖². Shards sum it over their ranges and add λ·Σ‖y_i‖² once. gramY
// is Gram(items).
//
// Summing over all items uses the Gram trick: for user u with scores
// s_ui = x_uᵀy_i,
//
//	Σ_i c_ui (p_ui − s_ui)² = x_uᵀ(YᵀY)x_u + Σ_{i∈I_u} [c_ui (p_ui − s_ui)² − s_ui²]
//
// since an unobserved pair contributes s_ui² and Σ_i s_ui² = x_uᵀYᵀYx_u.
func LossRows(m *Matrix, lo, hi int, users, items *Factors, gramY []float64, p Params) (float64, error) {
	if err := checkSolve(users, m, items, gramY, p); err != nil {
		return 0, err
	}
	if lo < 0 || hi > m.Rows || lo > hi {
		return 0, fmt.Errorf("als: rows [%d, %d) outside %d rows: %w", lo, hi, m.Rows, domain.ErrInvalid)
	}
	for _, c := range m.Indices[m.Indptr[lo]:m.Indptr[hi]] {
		if uint(c) >= uint(items.N) {
			return 0, fmt.Errorf("als: column %d outside %d items: %w", c, items.N, domain.ErrInvalid)
		}
	}
	return lossRows(m, lo, hi, users, items, gramY, p), nil
}

func lossRows(m *Matrix, lo, hi int, users, items *Factors, gramY []float64, p Params) float64 {
	k := users.K
	x := make([]float64, k)
	total := 0.0
	for u := lo; u < hi; u++ {
		for q, v := range users.Row(u) {
			x[q] = float64(v)
		}
		// x_uᵀ G x_u and λ‖x_u‖².
		quad, norm := 0.0, 0.0
		for a := 0; a < k; a++ {
			row := gramY[a*k : a*k+k]
			s := 0.0
			for b, g := range row {
				s += g * x[b]
			}
			quad += x[a] * s
			norm += x[a] * x[a]
		}
		total += quad + p.Lambda*norm
		cols, vals := m.Row(u)
		for j, c := range cols {
			r := float64(vals[j])
			s := dot64(x, items.Row(int(c)))
			pref := 0.0
			if r > 0 {
				pref = 1
			}
			conf := 1 + p.Alpha*math.Abs(r)
			total += conf*(pref-s)*(pref-s) - s*s
		}
	}
	return total
}

func dot64(x []float64, y []float32) float64 {
	y = y[:len(x)]
	s := 0.0
	for i, v := range x {
		s += v * float64(y[i])
	}
	return s
}

func sqNorm(v []float32) float64 {
	s := 0.0
	for _, f := range v {
		s += float64(f) * float64(f)
	}
	return s
}
