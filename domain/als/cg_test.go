package als

import (
	"math"
	"testing"
)

// rowProblem is one user's normal equations against trained item factors:
// the exact (Cholesky) solution and the user's row as a one-row matrix, so
// that LossRows measures the row's objective at any x.
type rowProblem struct {
	row   *Matrix
	exact []float32
}

// cgFixture trains a small model exactly and returns, for every user, the
// problem of the last user half-step and the vector the user had one
// iteration earlier: the warm start CG gets in training.
func cgFixture(t *testing.T) (items *Factors, p Params, problems []rowProblem, warm *Factors) {
	t.Helper()
	m := randomMatrix(t, 80, 100, 0.08, 0.1, 31)
	p = testParams(16)
	p.Solver = SolverCholesky
	p.Iterations = 6
	// Weak regularisation and strong confidence make A ill-conditioned,
	// the hard case for CG (with the default λ it converges in a step).
	p.Alpha, p.Lambda = 10, 0.5
	users, items := mustTrain(t, m, p)
	before := p
	before.Iterations--
	warm, _ = mustTrain(t, m, before)
	for u := 0; u < m.Rows; u++ {
		cols, vals := m.Row(u)
		row, err := FromTriplets(1, m.Cols, triplets(0, cols, vals))
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, rowProblem{row: row, exact: users.Row(u)})
	}
	return items, p, problems, warm
}

// TestCGConvergesToCholesky checks the CG row solve against the exact one:
// from zero, every step lowers the row's objective and K steps reach the
// exact solution; from the previous iteration's vector, the default three
// steps land close to it.
func TestCGConvergesToCholesky(t *testing.T) {
	t.Parallel()
	items, p, problems, warm := cgFixture(t)
	k := p.Factors
	gram := Gram(items)
	s := newSolver(k)
	objective := func(pr rowProblem, x []float32) float64 {
		v, err := LossRows(pr.row, 0, 1, &Factors{N: 1, K: k, Data: x}, items, gram, p)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var worstWarm, worstStart float64
	for u, pr := range problems {
		cols, vals := pr.row.Row(0)
		exactLoss := objective(pr, pr.exact)
		prev := objective(pr, make([]float32, k))
		for steps := 1; steps <= k; steps++ {
			x := make([]float32, k)
			if err := s.cg(x, cols, vals, items, gram, p.Alpha, p.Lambda, steps); err != nil {
				t.Fatal(err)
			}
			loss := objective(pr, x)
			// Each step minimises over a larger space; float32 storage
			// of x can add a hair.
			if loss > prev+1e-6*math.Abs(prev) {
				t.Errorf("user %d: objective rose from %g to %g at CG step %d", u, prev, loss, steps)
			}
			if loss < exactLoss-1e-6*math.Abs(exactLoss) {
				t.Errorf("user %d: CG step %d beat the exact solution: %g < %g", u, steps, loss, exactLoss)
			}
			prev = loss
			if steps == k {
				if d := maxRelDiff(x, pr.exact); d > 1e-4 {
					t.Errorf("user %d: %d CG steps from zero differ from Cholesky by %g", u, k, d)
				}
			}
		}
		x := append([]float32(nil), warm.Row(u)...)
		worstStart = max(worstStart, maxRelDiff(x, pr.exact))
		if err := s.cg(x, cols, vals, items, gram, p.Alpha, p.Lambda, DefaultCGSteps); err != nil {
			t.Fatal(err)
		}
		worstWarm = max(worstWarm, maxRelDiff(x, pr.exact))
	}
	t.Logf("warm start: largest relative distance to the exact solution %.2g before, %.2g after %d CG steps",
		worstStart, worstWarm, DefaultCGSteps)
	if worstWarm > 0.05 || worstWarm > worstStart/2 {
		t.Errorf("%d warm-started CG steps leave a relative error of %g (from %g)", DefaultCGSteps, worstWarm, worstStart)
	}
}

// TestTrainSolversAgree trains the same data with both solvers: CG's final
// objective must be within a whisker of the exact solver's.
func TestTrainSolversAgree(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 300, 250, 0.05, 0.1, 17)
	// In the last, badly conditioned regime three steps per half-step
	// leave CG 3% behind after ten iterations; eight close the gap.
	for _, reg := range []struct {
		alpha, lambda float64
		steps         int
	}{{1, 30, 3}, {10, 0.5, 3}, {40, 0.05, 8}} {
		final := map[string]float64{}
		for _, solver := range []string{SolverCholesky, SolverCG} {
			p := testParams(16)
			p.Iterations = 10
			p.Solver = solver
			p.Alpha, p.Lambda, p.CGSteps = reg.alpha, reg.lambda, reg.steps
			users, items := mustTrain(t, m, p)
			loss, err := Loss(m, users, items, p)
			if err != nil {
				t.Fatal(err)
			}
			final[solver] = loss
		}
		rel := (final[SolverCG] - final[SolverCholesky]) / final[SolverCholesky]
		t.Logf("α=%g λ=%g: final loss Cholesky %.6g, CG (%d steps) %.6g (%+.3g%%)",
			reg.alpha, reg.lambda, final[SolverCholesky], reg.steps, final[SolverCG], 100*rel)
		if math.Abs(rel) > 0.01 {
			t.Errorf("α=%g λ=%g: CG's final loss %g is not within 1%% of Cholesky's %g",
				reg.alpha, reg.lambda, final[SolverCG], final[SolverCholesky])
		}
	}
}

func TestParamsSolver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p     Params
		name  string
		steps int
	}{
		{Params{}, SolverCG, DefaultCGSteps},
		{Params{Solver: SolverCG, CGSteps: 7}, SolverCG, 7},
		{Params{Solver: SolverCholesky, CGSteps: 7}, SolverCholesky, 7},
	}
	for _, tt := range tests {
		if got := tt.p.SolverName(); got != tt.name || tt.p.cgSteps() != tt.steps {
			t.Errorf("%+v: solver %q with %d steps, want %q with %d", tt.p, got, tt.p.cgSteps(), tt.name, tt.steps)
		}
	}
	e := DefaultParams().Exact()
	if e.SolverName() != SolverCholesky || e.Factors != DefaultParams().Factors {
		t.Errorf("Exact() = %+v", e)
	}
}
