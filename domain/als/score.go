package als

// Scored is an item index with its score for one user vector.
type Scored struct {
	Index int32
	Score float32
}

// Score returns vᵀy_i for every item i: the predicted preference of the
// user with vector v, the same inner product the vector tier ranks by.
func Score(items *Factors, v []float32) []float32 {
	out := make([]float32, items.N)
	for i := range out {
		out[i] = dot32(v, items.Row(i))
	}
	return out
}

// TopK returns the k items with the highest vᵀy_i, best first, leaving out
// items for which skip (if not nil) returns true — typically the ones the
// user has already seen. Equal scores rank the lower index first, so the
// list is deterministic. It keeps a k-sized min-heap, O(N·K + N·log k),
// which evaluation and batch recommendations call once per user.
func TopK(items *Factors, v []float32, k int, skip func(i int) bool) []Scored {
	if k <= 0 || items.N == 0 {
		return nil
	}
	h := make(minHeap, 0, min(k, items.N))
	for i := 0; i < items.N; i++ {
		if skip != nil && skip(i) {
			continue
		}
		s := Scored{Index: int32(i), Score: dot32(v, items.Row(i))}
		switch {
		case len(h) < k:
			h.push(s)
		case worse(h[0], s):
			h[0] = s
			h.down(0)
		}
	}
	// Pop the worst to the back: the slice ends up best first.
	for n := len(h) - 1; n > 0; n-- {
		h[0], h[n] = h[n], h[0]
		h[:n].down(0)
	}
	return h
}

// worse reports whether a ranks below b.
func worse(a, b Scored) bool {
	return a.Score < b.Score || a.Score == b.Score && a.Index > b.Index
}

// minHeap keeps the worst of the current top k at index 0. It is written
// out rather than built on container/heap to avoid an interface call per
// comparison in a loop over the whole catalogue.
type minHeap []Scored

func (h *minHeap) push(s Scored) {
	*h = append(*h, s)
	hh := *h
	for i := len(hh) - 1; i > 0; {
		parent := (i - 1) / 2
		if !worse(hh[i], hh[parent]) {
			break
		}
		hh[i], hh[parent] = hh[parent], hh[i]
		i = parent
	}
}

func (h minHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// dot32 is the inner product in float32 with four accumulators: ranking
// needs no more precision than the float32 factors carry, and pgvector
// computes the same product in float4.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
