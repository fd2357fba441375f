package als

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*Params)) Params {
		p := DefaultParams()
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		p      Params
		fields []string // fields reported, in order; nil means valid
	}{
		{"defaults", DefaultParams(), nil},
		{"workers zero means all CPUs", with(func(p *Params) { p.Workers = 0 }), nil},
		{"alpha zero is plain weighted MF", with(func(p *Params) { p.Alpha = 0 }), nil},
		{"zero factors", with(func(p *Params) { p.Factors = 0 }), []string{"factors"}},
		{"too many factors", with(func(p *Params) { p.Factors = MaxFactors + 1 }), []string{"factors"}},
		{"negative alpha", with(func(p *Params) { p.Alpha = -1 }), []string{"alpha"}},
		{"NaN alpha", with(func(p *Params) { p.Alpha = math.NaN() }), []string{"alpha"}},
		{"zero lambda", with(func(p *Params) { p.Lambda = 0 }), []string{"lambda"}},
		{"infinite lambda", with(func(p *Params) { p.Lambda = math.Inf(1) }), []string{"lambda"}},
		{"zero iterations", with(func(p *Params) { p.Iterations = 0 }), []string{"iterations"}},
		{"negative workers", with(func(p *Params) { p.Workers = -1 }), []string{"workers"}},
		{"empty solver means cg", with(func(p *Params) { p.Solver, p.CGSteps = "", 0 }), nil},
		{"cholesky", with(func(p *Params) { p.Solver = SolverCholesky }), nil},
		{"unknown solver", with(func(p *Params) { p.Solver = "lu" }), []string{"solver"}},
		{"negative cg steps", with(func(p *Params) { p.CGSteps = -1 }), []string{"cg_steps"}},
		{"too many cg steps", with(func(p *Params) { p.CGSteps = MaxFactors + 1 }), []string{"cg_steps"}},
		{"all at once", Params{Factors: -1, Alpha: -1, Lambda: -1, Iterations: -1, Workers: -1, Solver: "x", CGSteps: -1},
			[]string{"factors", "alpha", "lambda", "iterations", "workers", "solver", "cg_steps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.p.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("Validate() = %v, want an error matching domain.ErrInvalid", err)
			}
			var fes domain.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("Validate() = %T, want domain.FieldErrors", err)
			}
			var got []string
			for _, fe := range fes {
				got = append(got, fe.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}
