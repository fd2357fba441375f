package als

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// TestFoldRowFollowsTheHistory: a row updated event by event folds in,
// after every event, bit for bit what FoldInMovies gives for the summed
// weights, including movies the model does not know, weights that turn
// negative and back, and histories without a positive weight.
func TestFoldRowFollowsTheHistory(t *testing.T) {
	t.Parallel()
	_, _, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	weights := map[domain.MovieID]float64{"not-in-model": 3}
	row, err := mf.NewRow(weights)
	if err != nil {
		t.Fatal(err)
	}
	for step := range 400 {
		movie := model.Movies[r.IntN(len(model.Movies))]
		if step%17 == 0 {
			movie = "unknown-movie"
		}
		weights[movie] += float64(r.IntN(9) - 4)
		if err := row.Set(movie, weights[movie]); err != nil {
			t.Fatal(err)
		}
		want, wantErr := mf.FoldInMovies(weights)
		got, err := row.FoldIn()
		if !errors.Is(err, wantErr) || !slices.Equal(got, want) {
			t.Fatalf("step %d: row gives %v, %v; FoldInMovies %v, %v", step, got, err, want, wantErr)
		}
	}
	// A row built from the same weights at once is the same row.
	again, err := mf.NewRow(weights)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.idx, row.idx) || !slices.Equal(again.val, row.val) || again.positive != row.positive {
		t.Fatal("a row built at once differs from the one updated event by event")
	}
}

func TestFoldRowRefusesNonFiniteWeights(t *testing.T) {
	t.Parallel()
	_, _, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	row, err := mf.NewRow(map[domain.MovieID]float64{model.Movies[0]: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := row.Set(model.Movies[1], math.Inf(1)); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("Set(+Inf) = %v, want ErrInvalid", err)
	}
	if _, err := mf.NewRow(map[domain.MovieID]float64{model.Movies[0]: math.NaN()}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("NewRow(NaN) = %v, want ErrInvalid", err)
	}
}
