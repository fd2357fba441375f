package als

import (
	"fmt"
	"math/rand/v2"

	"github.com/marquee-recsys/marquee/domain"
)

// Factors is an N × K matrix of latent vectors (one row per user or item),
// stored row-major in float32: the layout pgvector and domain.Model use, so
// publishing a model is a slice hand-over, not a conversion.
type Factors struct {
	N, K int
	Data []float32
}

// NewFactors returns n zero vectors of length k.
func NewFactors(n, k int) *Factors {
	return &Factors{N: n, K: k, Data: make([]float32, n*k)}
}

// initScale is the standard deviation of random initial factors. Small
// values keep the first half-step close to the regularised least-squares
// solution rather than dominated by the noise; Hu et al.'s scheme and
// common implementations start at this order of magnitude.
const initScale = 0.01

// RandomFactors returns n vectors of length k with entries drawn from
// N(0, initScale²) by a PCG generator seeded from seed: the same seed gives
// the same factors on every machine and Go release (math/rand/v2 specifies
// PCG's output).
func RandomFactors(n, k int, seed int64) *Factors {
	f := NewFactors(n, k)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d61727175656521)) // "marquee!"
	for i := range f.Data {
		f.Data[i] = float32(rng.NormFloat64() * initScale)
	}
	return f
}

// Row returns vector i, sharing storage.
func (f *Factors) Row(i int) []float32 { return f.Data[i*f.K : (i+1)*f.K] }

// Clone returns a deep copy, for callers that keep factors while training
// goes on.
func (f *Factors) Clone() *Factors {
	return &Factors{N: f.N, K: f.K, Data: append([]float32(nil), f.Data...)}
}

// validate checks the shape, so solvers can index rows without checks.
func (f *Factors) validate(name string) error {
	if f == nil || f.N < 0 || f.K < 1 || len(f.Data) != f.N*f.K {
		if f == nil {
			return fmt.Errorf("als: %s factors: nil: %w", name, domain.ErrInvalid)
		}
		return fmt.Errorf("als: %s factors: %d values for %d×%d: %w", name, len(f.Data), f.N, f.K, domain.ErrInvalid)
	}
	return nil
}
