package als

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
)

// Matrix is a sparse matrix in compressed sparse row form: the column
// indices and values of row r are Indices[Indptr[r]:Indptr[r+1]] and
// Data[Indptr[r]:Indptr[r+1]], with indices strictly increasing in a row.
// Interactions are stored as int32 and float32 so that 10M of them take
// 80 MB rather than 240 MB; summed weights are small integers in practice,
// which float32 holds exactly.
//
// A user × item Matrix gives the user half-step its rows; its Transpose is
// the same data in item × user form (the CSC view) for the item half-step.
type Matrix struct {
	Rows, Cols int
	Indptr     []int
	Indices    []int32
	Data       []float32
}

// Row returns the column indices and values of row r, sharing storage.
func (m *Matrix) Row(r int) ([]int32, []float32) {
	lo, hi := m.Indptr[r], m.Indptr[r+1]
	return m.Indices[lo:hi], m.Data[lo:hi]
}

// NNZ returns the number of stored entries.
func (m *Matrix) NNZ() int { return len(m.Indices) }

// Validate checks the CSR invariants. Train and SolveRows rely on them to
// index factor rows, so a hand-built or deserialised matrix is checked once
// up front instead of on every access.
func (m *Matrix) Validate() error {
	switch {
	case m.Rows < 0 || m.Cols < 0 || m.Cols > math.MaxInt32:
		return fmt.Errorf("als: matrix %d×%d: bad shape: %w", m.Rows, m.Cols, domain.ErrInvalid)
	case len(m.Indptr) != m.Rows+1 || m.Indptr[0] != 0:
		return fmt.Errorf("als: matrix indptr has %d entries for %d rows: %w", len(m.Indptr), m.Rows, domain.ErrInvalid)
	case m.Indptr[m.Rows] != len(m.Indices) || len(m.Indices) != len(m.Data):
		return fmt.Errorf("als: matrix has %d indices, %d values, indptr ends at %d: %w",
			len(m.Indices), len(m.Data), m.Indptr[m.Rows], domain.ErrInvalid)
	}
	for r := 0; r < m.Rows; r++ {
		if m.Indptr[r] > m.Indptr[r+1] {
			return fmt.Errorf("als: matrix indptr decreases at row %d: %w", r, domain.ErrInvalid)
		}
	}
	for r := 0; r < m.Rows; r++ {
		cols, vals := m.Row(r)
		for j, c := range cols {
			if c < 0 || int(c) >= m.Cols || j > 0 && c <= cols[j-1] {
				return fmt.Errorf("als: matrix row %d: column %d out of order or range: %w", r, c, domain.ErrInvalid)
			}
			if v := float64(vals[j]); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("als: matrix row %d column %d: value %g: %w", r, c, v, domain.ErrInvalid)
			}
		}
	}
	return nil
}

// Transpose returns the matrix with rows and columns swapped, in new
// storage. Scanning rows in order makes every output row sorted without a
// sort, so this is two linear passes.
func (m *Matrix) Transpose() *Matrix {
	t := &Matrix{
		Rows:    m.Cols,
		Cols:    m.Rows,
		Indptr:  make([]int, m.Cols+1),
		Indices: make([]int32, len(m.Indices)),
		Data:    make([]float32, len(m.Data)),
	}
	for _, c := range m.Indices {
		t.Indptr[c+1]++
	}
	for c := 0; c < m.Cols; c++ {
		t.Indptr[c+1] += t.Indptr[c]
	}
	next := slices.Clone(t.Indptr[:m.Cols])
	for r := 0; r < m.Rows; r++ {
		cols, vals := m.Row(r)
		for j, c := range cols {
			k := next[c]
			t.Indices[k] = int32(r)
			t.Data[k] = vals[j]
			next[c]++
		}
	}
	return t
}

// Triplet is one interaction before it is placed in a Matrix.
type Triplet struct {
	Row, Col int32
	Weight   float32
}

// Builder collects interactions in any order, with repeats, and builds the
// Matrix of their sums. Loaders stream events into it (a user who viewed,
// clicked and liked a movie adds three triplets), so it stores 12 bytes per
// event and sorts once at the end.
type Builder struct {
	entries []Triplet
	bad     error
}

// Add records weight at (row, col). Invalid input is remembered and
// reported by Build, so a loading loop need not check every call.
func (b *Builder) Add(row, col int, weight float64) {
	if b.bad != nil {
		return
	}
	if row < 0 || col < 0 || row > math.MaxInt32 || col > math.MaxInt32 {
		b.bad = fmt.Errorf("als: entry (%d, %d): negative or beyond int32: %w", row, col, domain.ErrInvalid)
		return
	}
	if math.IsNaN(weight) || math.IsInf(weight, 0) || math.Abs(weight) > math.MaxFloat32 {
		b.bad = fmt.Errorf("als: entry (%d, %d): weight %g is not a finite float32: %w", row, col, weight, domain.ErrInvalid)
		return
	}
	b.entries = append(b.entries, Triplet{Row: int32(row), Col: int32(col), Weight: float32(weight)})
}

// Grow makes room for n more triplets, so a loader that knows its row count
// (10M+ interactions) avoids the transient doubling of append.
func (b *Builder) Grow(n int) { b.entries = slices.Grow(b.entries, n) }

// Len returns the number of triplets added so far.
func (b *Builder) Len() int { return len(b.entries) }

// Relabel renames, in every triplet added so far, row r to rows[r] and
// column c to cols[c] (a nil slice leaves that side as it is). A loader
// that numbers users and movies in the order a scan meets them uses it to
// number them in a canonical order before Build, so that the matrix does
// not depend on the order the stores returned the events in. Every row and
// column added must have a new label; Relabel does not check that the
// labels are distinct.
func (b *Builder) Relabel(rows, cols []int32) error {
	if b.bad != nil {
		return b.bad
	}
	for i, e := range b.entries {
		if rows != nil {
			if int(e.Row) >= len(rows) {
				return fmt.Errorf("als: relabel: row %d has no new label (%d given): %w", e.Row, len(rows), domain.ErrInvalid)
			}
			b.entries[i].Row = rows[e.Row]
		}
		if cols != nil {
			if int(e.Col) >= len(cols) {
				return fmt.Errorf("als: relabel: column %d has no new label (%d given): %w", e.Col, len(cols), domain.ErrInvalid)
			}
			b.entries[i].Col = cols[e.Col]
		}
	}
	return nil
}

// Build returns the rows × cols Matrix whose entry (r, c) is the sum of
// the weights added at (r, c). Entries that sum to zero are kept: the user
// still interacted with the movie (which counts as seen), even though it
// adds nothing to the solve. Sums are taken in float64 over the weights in
// increasing order, so the result does not depend on the order in which
// the triplets were added (a scan of a store has no fixed order).
func (b *Builder) Build(rows, cols int) (*Matrix, error) {
	if b.bad != nil {
		return nil, b.bad
	}
	if rows < 0 || cols < 0 || cols > math.MaxInt32 {
		return nil, fmt.Errorf("als: matrix %d×%d: bad shape: %w", rows, cols, domain.ErrInvalid)
	}
	m := &Matrix{Rows: rows, Cols: cols, Indptr: make([]int, rows+1)}
	for _, e := range b.entries {
		if int(e.Row) >= rows || int(e.Col) >= cols {
			return nil, fmt.Errorf("als: entry (%d, %d) outside %d×%d: %w", e.Row, e.Col, rows, cols, domain.ErrInvalid)
		}
		m.Indptr[e.Row+1]++
	}
	for r := 0; r < rows; r++ {
		m.Indptr[r+1] += m.Indptr[r]
	}
	// Counting sort by row, then each row by column and, among the
	// duplicates of an entry, by weight: the order of a sum is then a
	// function of the weights alone.
	sorted := make([]Triplet, len(b.entries))
	next := slices.Clone(m.Indptr[:rows])
	for _, e := range b.entries {
		sorted[next[e.Row]] = e
		next[e.Row]++
	}
	m.Indices = make([]int32, 0, len(sorted))
	m.Data = make([]float32, 0, len(sorted))
	for r := 0; r < rows; r++ {
		row := sorted[m.Indptr[r]:m.Indptr[r+1]]
		slices.SortFunc(row, func(a, b Triplet) int { return cmp.Or(cmp.Compare(a.Col, b.Col), cmp.Compare(a.Weight, b.Weight)) })
		m.Indptr[r] = len(m.Indices)
		for j := 0; j < len(row); {
			sum, c := 0.0, row[j].Col
			for ; j < len(row) && row[j].Col == c; j++ {
				sum += float64(row[j].Weight)
			}
			if math.Abs(sum) > math.MaxFloat32 {
				return nil, fmt.Errorf("als: entry (%d, %d): sum %g overflows float32: %w", r, c, sum, domain.ErrInvalid)
			}
			m.Indices = append(m.Indices, c)
			m.Data = append(m.Data, float32(sum))
		}
	}
	m.Indptr[rows] = len(m.Indices)
	if len(m.Indices) < cap(m.Indices)*3/4 { // many duplicates: give the slack back
		m.Indices, m.Data = slices.Clone(m.Indices), slices.Clone(m.Data)
	}
	return m, nil
}

// FromTriplets builds a rows × cols Matrix from triplets, summing repeats.
func FromTriplets(rows, cols int, ts []Triplet) (*Matrix, error) {
	var b Builder
	b.Grow(len(ts))
	for _, t := range ts {
		b.Add(int(t.Row), int(t.Col), float64(t.Weight))
	}
	return b.Build(rows, cols)
}
