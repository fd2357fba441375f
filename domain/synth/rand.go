package synth

import (
	"math"
	"math/bits"
)

// rng is SplitMix64. The generator carries its own PRNG instead of
// math/rand/v2 so that a (config, catalog) pair yields the same stream on
// every Go release — scale tests and benchmarks compare runs across
// toolchains — and so that drawing a number is an inlined add-and-mix
// rather than an interface call.
type rng struct{ s uint64 }

// Streams keep independent sequences apart: a user's taste can be
// recomputed without replaying their events, and the catalog permutation
// does not depend on the number of users.
const (
	streamCatalog uint64 = iota + 1
	streamTaste
	streamEvents
	streamMovies
)

// newRNG returns the generator for one (seed, stream, index) triple.
func newRNG(seed int64, stream, index uint64) rng {
	return rng{s: mix64(uint64(seed) ^ mix64(stream*0x9E3779B97F4A7C15+mix64(index)))}
}

// mix64 is the SplitMix64 finaliser, a bijective avalanche of x.
func mix64(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	return mix64(r.s)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// between returns a uniform number in [lo, hi).
func (r *rng) between(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn returns a uniform integer in [0, n) by Lemire's multiply-shift.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// exp returns an Exp(1) variate.
func (r *rng) exp() float64 { return -math.Log(1 - r.float()) }

// normal returns an approximately standard normal variate (Irwin–Hall with
// four terms): rating noise needs a bell shape, not exact tails.
func (r *rng) normal() float64 {
	return (r.float() + r.float() + r.float() + r.float() - 2) * math.Sqrt(3)
}

// alias samples indexes in proportion to fixed weights in O(1) per draw
// (Vose's alias method): popularity sampling is the inner loop of the
// generator, and a binary search over 100K movies would dominate it.
type alias struct {
	threshold []uint64 // keep i when the low 32 bits of the draw are below it
	other     []int32
}

// newAlias builds the table; weights must be non-negative with a positive sum.
func newAlias(weights []float64) alias {
	n := len(weights)
	var sum float64
	for _, w := range weights {
		sum += w
	}
	scaled := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, w := range weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	a := alias{threshold: make([]uint64, n), other: make([]int32, n)}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.threshold[s] = uint64(scaled[s] * (1 << 32))
		a.other[s] = l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// Whatever remains is 1 up to rounding: always keep it.
	for _, i := range append(small, large...) {
		a.threshold[i] = 1 << 32
		a.other[i] = i
	}
	return a
}

func (a *alias) sample(r *rng) int {
	x := r.next()
	i := int((x >> 32) * uint64(len(a.threshold)) >> 32)
	if x&0xFFFFFFFF < a.threshold[i] {
		return i
	}
	return int(a.other[i])
}
