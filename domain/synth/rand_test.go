package synth

import (
	"math"
	"testing"
)

func TestAliasMatchesWeights(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		weights []float64
	}{
		{"single", []float64{3}},
		{"uniform", []float64{1, 1, 1, 1}},
		{"skewed", []float64{100, 10, 1, 0.1, 0}},
		{"zipf", zipf(50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAlias(tt.weights)
			r := newRNG(1, streamCatalog, 0)
			const draws = 400_000
			counts := make([]int, len(tt.weights))
			for range draws {
				counts[a.sample(&r)]++
			}
			var sum float64
			for _, w := range tt.weights {
				sum += w
			}
			for i, w := range tt.weights {
				p := w / sum
				sd := math.Sqrt(draws * p * (1 - p))
				if diff := math.Abs(float64(counts[i]) - draws*p); diff > 5*sd+1 {
					t.Errorf("index %d drawn %d times, want %.0f ± %.0f", i, counts[i], draws*p, 5*sd)
				}
			}
		})
	}
}

func zipf(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(i+1)
	}
	return w
}

func TestRNGRanges(t *testing.T) {
	t.Parallel()
	r := newRNG(-7, streamEvents, 3)
	var mean float64
	for range 100_000 {
		if f := r.float(); f < 0 || f >= 1 {
			t.Fatalf("float() = %g", f)
		}
		if n := r.intn(7); n < 0 || n >= 7 {
			t.Fatalf("intn(7) = %d", n)
		}
		e := r.exp()
		if e < 0 || math.IsInf(e, 0) {
			t.Fatalf("exp() = %g", e)
		}
		mean += e / 100_000
	}
	if math.Abs(mean-1) > 0.02 {
		t.Errorf("mean of exp() = %g, want 1", mean)
	}
	if newRNG(1, streamTaste, 5) == newRNG(1, streamEvents, 5) || newRNG(1, streamTaste, 5) == newRNG(2, streamTaste, 5) {
		t.Error("streams collide")
	}
}
