package als

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// trainedModel trains on a random matrix with dislikes, a user with no
// history (row 0) and one with only dislikes (row 1), and publishes the
// items as a model whose movie ids are "m<index>".
func trainedModel(t *testing.T) (*Matrix, *Factors, *Factors, Params, *domain.Model) {
	t.Helper()
	r := randomMatrix(t, 200, 150, 0.04, 0.15, 13)
	var b Builder
	for u := 2; u < r.Rows; u++ {
		cols, vals := r.Row(u)
		for j, c := range cols {
			b.Add(u, int(c), float64(vals[j]))
		}
	}
	b.Add(1, 3, -4)
	b.Add(1, 7, -1)
	m, err := b.Build(r.Rows, r.Cols)
	if err != nil {
		t.Fatal(err)
	}
	p := testParams(16)
	users, items := mustTrain(t, m, p)
	movies := make([]domain.MovieID, items.N)
	for i := range movies {
		movies[i] = domain.MovieID(fmt.Sprintf("m%d", i))
	}
	model, err := ModelFromFactors("v1", movies, items, p, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return m, users, items, p, model
}

func TestFoldInReproducesTrainedUsers(t *testing.T) {
	t.Parallel()
	m, users, items, p, model := trainedModel(t)
	folder, err := NewFolder(items, p)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, p.Factors)
	noPreference := 0
	for u := 0; u < m.Rows; u++ {
		cols, vals := m.Row(u)
		want := users.Row(u)

		got, err := folder.FoldIn(cols, vals)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(got, want); d > 1e-4 {
			t.Errorf("user %d: FoldIn differs from the trained vector by %g", u, d)
		}
		if err := folder.FoldInto(buf, cols, vals); err != nil || !slices.Equal(buf, got) {
			t.Errorf("user %d: FoldInto = %v, %v; FoldIn %v", u, buf, err, got)
		}

		weights := map[domain.MovieID]float64{"not-in-model": 5}
		positive := false
		for j, c := range cols {
			weights[model.Movies[c]] = float64(vals[j])
			positive = positive || vals[j] > 0
		}
		vec, err := mf.FoldInMovies(weights)
		if !positive {
			noPreference++
			if !errors.Is(err, ErrNoPreference) || vec != nil {
				t.Errorf("user %d without likes: FoldInMovies = %v, %v; want ErrNoPreference", u, vec, err)
			}
			if slices.ContainsFunc(want, func(v float32) bool { return v != 0 }) {
				t.Errorf("user %d without likes has a non-zero trained vector", u)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(vec, want); d > 1e-4 {
			t.Errorf("user %d: FoldInMovies differs from the trained vector by %g", u, d)
		}
	}
	if noPreference == 0 || noPreference == m.Rows {
		t.Fatalf("%d of %d users without likes: the data does not exercise both paths", noPreference, m.Rows)
	}
}

func TestFoldInMoviesIsReproducible(t *testing.T) {
	t.Parallel()
	_, _, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	weights := map[domain.MovieID]float64{}
	for i := 0; i < 60; i++ {
		weights[model.Movies[i*2]] = float64(i%7 - 2)
	}
	first, err := mf.FoldInMovies(weights)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 { // map order differs from call to call
		again, err := mf.FoldInMovies(weights)
		if err != nil || !slices.Equal(again, first) {
			t.Fatalf("FoldInMovies not bit-reproducible: %v", err)
		}
	}
}

func TestFoldInMoviesErrors(t *testing.T) {
	t.Parallel()
	_, _, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		weights map[domain.MovieID]float64
		want    error
	}{
		{"empty history", nil, ErrNoPreference},
		{"only unknown movies", map[domain.MovieID]float64{"new": 5, "newer": 1}, ErrNoPreference},
		{"only dislikes", map[domain.MovieID]float64{"m1": -4, "m2": -4}, ErrNoPreference},
		{"like cancelled by dislike", map[domain.MovieID]float64{"m1": 0}, ErrNoPreference},
		{"NaN weight", map[domain.MovieID]float64{"m1": 5, "m2": math.NaN()}, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vec, err := mf.FoldInMovies(tt.weights)
			if !errors.Is(err, tt.want) || vec != nil {
				t.Errorf("FoldInMovies = %v, %v; want %v", vec, err, tt.want)
			}
		})
	}
}

func TestFoldInRejects(t *testing.T) {
	t.Parallel()
	items := RandomFactors(10, 4, 1)
	folder, err := NewFolder(items, testParams(4))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dst     []float32
		items   []int32
		weights []float32
	}{
		{"item outside", make([]float32, 4), []int32{10}, []float32{1}},
		{"negative item", make([]float32, 4), []int32{-1}, []float32{1}},
		{"lengths differ", make([]float32, 4), []int32{1, 2}, []float32{1}},
		{"short buffer", make([]float32, 3), []int32{1}, []float32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := folder.FoldInto(tt.dst, tt.items, tt.weights); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("FoldInto = %v, want domain.ErrInvalid", err)
			}
		})
	}
}

func TestNewFolderRejects(t *testing.T) {
	t.Parallel()
	good := RandomFactors(3, 4, 1)
	tests := []struct {
		name  string
		items *Factors
		p     Params
	}{
		{"nil items", nil, testParams(4)},
		{"factor count mismatch", good, testParams(5)},
		{"ragged data", &Factors{N: 3, K: 4, Data: make([]float32, 11)}, testParams(4)},
		{"zero lambda", good, Params{Factors: 4, Alpha: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewFolder(tt.items, tt.p); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("NewFolder = %v, want domain.ErrInvalid", err)
			}
		})
	}
	if _, err := FolderFromModel(&domain.Model{Version: "v", Factors: 2, Movies: []domain.MovieID{"a", "a"},
		ItemFactors: make([]float32, 4), Lambda: 1}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("FolderFromModel with a repeated movie = %v, want domain.ErrInvalid", err)
	}
}

// TestFolderConcurrent runs fold-ins from many goroutines (meaningful under
// -race): pooled scratch must never be shared.
func TestFolderConcurrent(t *testing.T) {
	t.Parallel()
	m, users, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			buf := make([]float32, mf.K())
			for u := g; u < m.Rows; u += 8 {
				cols, vals := m.Row(u)
				if err := mf.FoldInto(buf, cols, vals); err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(buf, users.Row(u)) {
					t.Errorf("user %d: concurrent fold-in differs from the trained vector", u)
				}
			}
		})
	}
	wg.Wait()
}

func TestFoldIntoDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	m, _, items, p, _ := trainedModel(t)
	folder, err := NewFolder(items, p)
	if err != nil {
		t.Fatal(err)
	}
	cols, vals := m.Row(0)
	buf := make([]float32, p.Factors)
	if n := testing.AllocsPerRun(100, func() { _ = folder.FoldInto(buf, cols, vals) }); n > 0 {
		t.Errorf("FoldInto allocates %.1f times per call", n)
	}
}
