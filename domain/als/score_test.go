package als

import (
	"cmp"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

func TestTopKMatchesSortedScores(t *testing.T) {
	t.Parallel()
	items := RandomFactors(300, 8, 2)
	v := RandomFactors(1, 8, 3).Row(0)
	even := func(i int) bool { return i%2 == 0 }
	tests := []struct {
		name string
		k    int
		skip func(int) bool
		want int
	}{
		{"top 10", 10, nil, 10},
		{"top 1", 1, nil, 1},
		{"skipping even items", 10, even, 10},
		{"k beyond the catalogue", 500, nil, 300},
		{"k beyond what skip leaves", 500, even, 150},
		{"k zero", 0, nil, 0},
	}
	scores := Score(items, v)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var all []Scored
			for i, s := range scores {
				if tt.skip == nil || !tt.skip(i) {
					all = append(all, Scored{int32(i), s})
				}
			}
			slices.SortFunc(all, func(a, b Scored) int {
				return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Index, b.Index))
			})
			got := TopK(items, v, tt.k, tt.skip)
			if len(got) != tt.want || !slices.Equal(got, all[:len(got)]) {
				t.Errorf("TopK = %v\nwant %v", got, all[:min(tt.want, len(all))])
			}
		})
	}
}

func TestTopKTiesByIndex(t *testing.T) {
	t.Parallel()
	items := &Factors{N: 6, K: 1, Data: []float32{1, 3, 3, 2, 3, 1}}
	got := TopK(items, []float32{1}, 4, nil)
	want := []Scored{{1, 3}, {2, 3}, {4, 3}, {3, 2}}
	if !slices.Equal(got, want) {
		t.Errorf("TopK = %v, want %v", got, want)
	}
}

func TestScoreIsInnerProduct(t *testing.T) {
	t.Parallel()
	items := RandomFactors(20, 7, 4)
	v := RandomFactors(1, 7, 5).Row(0)
	for i, s := range Score(items, v) {
		want := 0.0
		for q := range v {
			want += float64(v[q]) * float64(items.Row(i)[q])
		}
		if math.Abs(float64(s)-want) > 1e-9 {
			t.Errorf("score %d = %g, want %g", i, s, want)
		}
	}
}

func TestModelFromFactors(t *testing.T) {
	t.Parallel()
	items := RandomFactors(3, 2, 1)
	p := testParams(2)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := ModelFromFactors("v7", []domain.MovieID{"a", "b", "c"}, items, p, at)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "v7" || !m.CreatedAt.Equal(at) || m.Factors != 2 || m.Alpha != p.Alpha || m.Lambda != p.Lambda {
		t.Errorf("model header %+v does not match the params", m)
	}
	if !slices.Equal(m.Row(1), items.Row(1)) {
		t.Errorf("model row 1 = %v, want %v", m.Row(1), items.Row(1))
	}
	tests := []struct {
		name    string
		version string
		movies  []domain.MovieID
		p       Params
	}{
		{"too few movies", "v", []domain.MovieID{"a"}, p},
		{"wrong factor count", "v", []domain.MovieID{"a", "b", "c"}, testParams(3)},
		{"no version", "", []domain.MovieID{"a", "b", "c"}, p},
	}
	for _, tt := range tests {
		if _, err := ModelFromFactors(tt.version, tt.movies, items, tt.p, at); err == nil {
			t.Errorf("%s: ModelFromFactors succeeded", tt.name)
		}
	}
}
