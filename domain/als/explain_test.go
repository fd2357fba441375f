package als

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/marquee-recsys/marquee/domain"
)

// handModel is a small model with hand-picked factors: three factors, six
// movies, α 2 and λ 0.5.
func handModel(t *testing.T) *ModelFolder {
	t.Helper()
	m := &domain.Model{Version: "hand", Factors: 3, Alpha: 2, Lambda: 0.5,
		Movies: []domain.MovieID{"m0", "m1", "m2", "m3", "m4", "m5"},
		ItemFactors: []float32{
			1, 0.2, 0,
			0.9, 0, 0.1,
			0, 1, 0.3,
			0.1, 0.8, 0,
			0.2, 0.1, 1,
			0.5, 0.5, 0.5,
		}}
	mf, err := FolderFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

// TestExplainDecomposesTheScore: on a hand-built model, each target's
// shares are c_uj·y_iᵀ W y_j with W the inverse of YᵀC_uY + λI computed
// independently (gonum), they sum to the target's score y_iᵀ x_u, and a
// dislike, though it shapes W, has no share.
func TestExplainDecomposesTheScore(t *testing.T) {
	t.Parallel()
	mf := handModel(t)
	weights := map[domain.MovieID]float64{"m0": 5, "m2": 1, "m3": -4}
	row, err := mf.NewRow(weights)
	if err != nil {
		t.Fatal(err)
	}
	x, err := row.FoldIn()
	if err != nil {
		t.Fatal(err)
	}
	targets := []int32{1, 4, 5}
	ex, err := row.Explain(targets, 10)
	if err != nil {
		t.Fatal(err)
	}
	// W = (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λI)⁻¹, by hand.
	y := mf.Items()
	a := mat.NewDense(3, 3, nil)
	for i := range y.N {
		yi := mat.NewVecDense(3, f64(y.Row(i)))
		a.RankOne(a, 1, yi, yi)
	}
	for id, r := range weights {
		yi := mat.NewVecDense(3, f64(y.Row(int(mf.Index[id]))))
		a.RankOne(a, 2*math.Abs(r), yi, yi)
	}
	for q := range 3 {
		a.Set(q, q, a.At(q, q)+0.5)
	}
	var w mat.Dense
	if err := w.Inverse(a); err != nil {
		t.Fatal(err)
	}
	for ti, target := range targets {
		yi := mat.NewVecDense(3, f64(y.Row(int(target))))
		score := 0.0
		for q, v := range x {
			score += float64(v) * yi.AtVec(q)
		}
		if math.Abs(ex[ti].Score-score) > 1e-5*math.Max(1, math.Abs(score)) {
			t.Errorf("target m%d: shares sum to %.8f, the score is %.8f", target, ex[ti].Score, score)
		}
		if len(ex[ti].Top) != 2 {
			t.Fatalf("target m%d: %d shares, want 2 (the dislike has none)", target, len(ex[ti].Top))
		}
		sum := 0.0
		for k, c := range ex[ti].Top {
			if k > 0 && c.Share > ex[ti].Top[k-1].Share {
				t.Errorf("target m%d: shares not in decreasing order: %v", target, ex[ti].Top)
			}
			yj := mat.NewVecDense(3, f64(y.Row(int(c.Item))))
			var wy mat.VecDense
			wy.MulVec(&w, yj)
			want := (1 + 2*weights[mf.Model.Movies[c.Item]]) * mat.Dot(yi, &wy)
			if math.Abs(c.Share-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("target m%d, history m%d: share %.10f, want c·yᵢᵀWyⱼ = %.10f", target, c.Item, c.Share, want)
			}
			sum += c.Share
		}
		if math.Abs(sum-ex[ti].Score) > 1e-12 {
			t.Errorf("target m%d: top shares sum to %v, Score %v", target, sum, ex[ti].Score)
		}
	}
}

// TestExplainOnATrainedModel: on a trained model and longer histories,
// every target's shares sum to its score, and top cuts the list.
func TestExplainOnATrainedModel(t *testing.T) {
	t.Parallel()
	_, _, _, _, model := trainedModel(t)
	mf, err := FolderFromModel(model)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	weights := map[domain.MovieID]float64{}
	for range 40 {
		weights[model.Movies[r.IntN(len(model.Movies))]] += float64(r.IntN(5) + 1)
	}
	row, err := mf.NewRow(weights)
	if err != nil {
		t.Fatal(err)
	}
	x, err := row.FoldIn()
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int32, len(model.Movies))
	for i := range all {
		all[i] = int32(i)
	}
	full, err := row.Explain(all, len(weights))
	if err != nil {
		t.Fatal(err)
	}
	cut, err := row.Explain(all, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range full {
		score := 0.0
		for q, v := range x {
			score += float64(v) * float64(model.ItemFactors[i*model.Factors+q])
		}
		sum := 0.0
		for _, c := range e.Top {
			sum += c.Share
		}
		if tol := 1e-4 * math.Max(1, math.Abs(score)); math.Abs(e.Score-score) > tol || math.Abs(sum-score) > tol {
			t.Fatalf("movie %d: shares sum to %v (Score %v), the score is %v", i, sum, e.Score, score)
		}
		if len(cut[i].Top) != 3 || cut[i].Top[0] != e.Top[0] || cut[i].Score != e.Score {
			t.Fatalf("movie %d: top 3 %v, of %v", i, cut[i].Top, e.Top[:3])
		}
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	mf := handModel(t)
	row, err := mf.NewRow(map[domain.MovieID]float64{"m0": -4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := row.Explain([]int32{1}, 3); !errors.Is(err, ErrNoPreference) {
		t.Fatalf("no positive history: %v, want ErrNoPreference", err)
	}
	row, _ = mf.NewRow(map[domain.MovieID]float64{"m0": 4})
	if _, err := row.Explain([]int32{6}, 3); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("a target outside the model: %v", err)
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// BenchmarkExplain is the work explain=true adds to a recommendation: the
// fold-in with the decomposition of 10 targets' scores, beside the fold-in
// alone, on 20,000 movies × 64 factors and a 100-movie history.
//
//	go test -run '^$' -bench 'Explain' -count 5 ./domain/als/
func BenchmarkExplain(b *testing.B) {
	mf, _, _, weights := benchFolder(b, 100)
	row, err := mf.NewRow(weights)
	if err != nil {
		b.Fatal(err)
	}
	targets := make([]int32, 10)
	for i := range targets {
		targets[i] = int32(i * 997 % mf.Items().N)
	}
	b.Run("FoldIn", func(b *testing.B) {
		for b.Loop() {
			if _, err := row.FoldIn(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Explain/targets=10", func(b *testing.B) {
		for b.Loop() {
			if _, err := row.Explain(targets, 3); err != nil {
				b.Fatal(err)
			}
		}
	})
}
