package als

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

func TestBuilderSumsDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rows, cols int
		in         []Triplet
		indptr     []int
		indices    []int32
		data       []float32
	}{
		{"empty", 2, 3, nil, []int{0, 0, 0}, []int32{}, []float32{}},
		{"one", 1, 1, []Triplet{{0, 0, 2}}, []int{0, 1}, []int32{0}, []float32{2}},
		{"unsorted input is sorted per row", 2, 4,
			[]Triplet{{1, 3, 1}, {0, 2, 5}, {1, 0, 2}, {0, 1, 4}},
			[]int{0, 2, 4}, []int32{1, 2, 0, 3}, []float32{4, 5, 2, 1}},
		{"duplicates are summed", 2, 3,
			[]Triplet{{0, 1, 1}, {1, 2, 3}, {0, 1, 2}, {0, 1, 4}, {1, 2, -1}},
			[]int{0, 1, 2}, []int32{1, 2}, []float32{7, 2}},
		{"a like and a dislike cancel but stay seen", 1, 2,
			[]Triplet{{0, 1, 4}, {0, 1, -4}},
			[]int{0, 1}, []int32{1}, []float32{0}},
		{"empty middle row", 3, 2, []Triplet{{2, 1, 1}, {0, 0, 1}},
			[]int{0, 1, 1, 2}, []int32{0, 1}, []float32{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := FromTriplets(tt.rows, tt.cols, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.Indptr, tt.indptr) || !slices.Equal(m.Indices, tt.indices) || !slices.Equal(m.Data, tt.data) {
				t.Errorf("got indptr %v indices %v data %v, want %v %v %v",
					m.Indptr, m.Indices, m.Data, tt.indptr, tt.indices, tt.data)
			}
		})
	}
}

func TestBuilderRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		add        func(*Builder)
		rows, cols int
	}{
		{"negative row", func(b *Builder) { b.Add(-1, 0, 1) }, 2, 2},
		{"row outside", func(b *Builder) { b.Add(2, 0, 1) }, 2, 2},
		{"column outside", func(b *Builder) { b.Add(0, 2, 1) }, 2, 2},
		{"NaN weight", func(b *Builder) { b.Add(0, 0, math.NaN()) }, 2, 2},
		{"infinite weight", func(b *Builder) { b.Add(0, 0, math.Inf(-1)) }, 2, 2},
		{"sum overflows float32", func(b *Builder) { b.Add(0, 0, 3e38); b.Add(0, 0, 3e38) }, 2, 2},
		{"negative shape", func(b *Builder) {}, -1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b Builder
			tt.add(&b)
			if _, err := b.Build(tt.rows, tt.cols); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("Build() error = %v, want domain.ErrInvalid", err)
			}
		})
	}
}

func TestTransposeRoundTrip(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 57, 31, 0.2, 0.1, 7)
	mt := m.Transpose()
	if err := mt.Validate(); err != nil {
		t.Fatal(err)
	}
	if mt.Rows != m.Cols || mt.Cols != m.Rows || mt.NNZ() != m.NNZ() {
		t.Fatalf("transpose is %d×%d with %d entries, want %d×%d with %d", mt.Rows, mt.Cols, mt.NNZ(), m.Cols, m.Rows, m.NNZ())
	}
	for r := 0; r < m.Rows; r++ {
		cols, vals := m.Row(r)
		for j, c := range cols {
			tc, tv := mt.Row(int(c))
			k, ok := slices.BinarySearch(tc, int32(r))
			if !ok || tv[k] != vals[j] {
				t.Fatalf("entry (%d, %d) = %g missing from the transpose", r, c, vals[j])
			}
		}
	}
	back := mt.Transpose()
	if !slices.Equal(back.Indptr, m.Indptr) || !slices.Equal(back.Indices, m.Indices) || !slices.Equal(back.Data, m.Data) {
		t.Error("transpose of the transpose differs from the matrix")
	}
}

func TestMatrixValidate(t *testing.T) {
	t.Parallel()
	good := func() *Matrix {
		return &Matrix{Rows: 2, Cols: 3, Indptr: []int{0, 2, 3}, Indices: []int32{0, 2, 1}, Data: []float32{1, 2, 3}}
	}
	tests := []struct {
		name    string
		corrupt func(*Matrix)
		ok      bool
	}{
		{"valid", func(*Matrix) {}, true},
		{"short indptr", func(m *Matrix) { m.Indptr = m.Indptr[:2] }, false},
		{"indptr not from zero", func(m *Matrix) { m.Indptr[0] = 1 }, false},
		{"indptr past the end", func(m *Matrix) { m.Indptr[2] = 4 }, false},
		{"decreasing indptr", func(m *Matrix) { m.Indptr[1] = 4; m.Indptr[2] = 3 }, false},
		{"unsorted row", func(m *Matrix) { m.Indices[0], m.Indices[1] = 2, 0 }, false},
		{"repeated column", func(m *Matrix) { m.Indices[1] = 0 }, false},
		{"column outside", func(m *Matrix) { m.Indices[2] = 3 }, false},
		{"NaN value", func(m *Matrix) { m.Data[0] = float32(math.NaN()) }, false},
		{"data shorter than indices", func(m *Matrix) { m.Data = m.Data[:2] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := good()
			tt.corrupt(m)
			err := m.Validate()
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestBuilderIgnoresInsertionOrder builds the same triplets in every
// order: float addition is not associative (1e20 + 1 − 1e20 is 0 or 1
// depending on the order), so a sum in insertion order would make the
// matrix depend on the order a store scanned its events in.
func TestBuilderIgnoresInsertionOrder(t *testing.T) {
	t.Parallel()
	in := []Triplet{{0, 1, 1e20}, {0, 1, 1}, {0, 1, -1e20}, {1, 0, 0.1}, {1, 0, 0.2}, {1, 0, 0.3}, {0, 0, 2}}
	want, err := FromTriplets(2, 2, in)
	if err != nil {
		t.Fatal(err)
	}
	perm := slices.Clone(in)
	var walk func(n int)
	orders := 0
	walk = func(n int) { // Heap's algorithm: every permutation of perm
		if n == 1 {
			orders++
			got, err := FromTriplets(2, 2, perm)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Indices, want.Indices) || !slices.Equal(got.Data, want.Data) {
				t.Fatalf("order %v: data %v, want %v", perm, got.Data, want.Data)
			}
			return
		}
		for i := 0; i < n-1; i++ {
			walk(n - 1)
			j := 0
			if n%2 == 0 {
				j = i
			}
			perm[j], perm[n-1] = perm[n-1], perm[j]
		}
		walk(n - 1)
	}
	walk(len(perm))
	if orders != 5040 {
		t.Fatalf("%d orders tried", orders)
	}
}

func TestBuilderRelabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rows, cols []int32
		want       []Triplet // as FromTriplets would get them
		bad        bool
	}{
		{"both", []int32{1, 0}, []int32{2, 0, 1}, []Triplet{{1, 0, 1}, {1, 1, 2}, {0, 2, 3}}, false},
		{"rows only", []int32{1, 0}, nil, []Triplet{{1, 1, 1}, {1, 2, 2}, {0, 0, 3}}, false},
		{"a row without a label", []int32{1}, nil, nil, true},
		{"a column without a label", nil, []int32{0, 1}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b Builder
			for _, e := range []Triplet{{0, 1, 1}, {0, 2, 2}, {1, 0, 3}} {
				b.Add(int(e.Row), int(e.Col), float64(e.Weight))
			}
			err := b.Relabel(tt.rows, tt.cols)
			if tt.bad {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Build(2, 3)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := FromTriplets(2, 3, tt.want)
			if !slices.Equal(got.Indptr, want.Indptr) || !slices.Equal(got.Indices, want.Indices) || !slices.Equal(got.Data, want.Data) {
				t.Errorf("got %v %v %v, want %v %v %v", got.Indptr, got.Indices, got.Data, want.Indptr, want.Indices, want.Data)
			}
		})
	}
}
