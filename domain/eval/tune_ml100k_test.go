package eval_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
	"github.com/marquee-recsys/marquee/domain/tune"
)

var tuneML = flag.Bool("tune", false, "run the hyperparameter search behind als.DefaultParams on MovieLens-100K (a few minutes)")

// TestTuneMovieLens100K reproduces the search that chose als.DefaultParams:
//
//	go test ./domain/eval -run TuneMovieLens100K -tune -v
//
// It carves the same holdout as TestMovieLens100K, then lets domain/tune
// search on the training part only (a validation split of it: the latest
// fifth of what is left of every user's ratings), prints the table of
// trials, and only then, for information, the chosen parameters' score on
// the holdout.
func TestTuneMovieLens100K(t *testing.T) {
	if !*tuneML {
		t.Skip("run with -tune")
	}
	d := loadML100K(t)
	h, err := eval.Split(d.m, d.times, eval.DefaultSplit())
	if err != nil {
		t.Fatal(err)
	}
	split := eval.DefaultSplit()
	split.Seed = 2
	// The default space, but K ≤ 64: the defaults also serve every
	// fold-in, whose latency target (p99 < 1 ms at 100 interactions) is
	// set at K=64; a fold-in costs O(K³), eight times as much at K=128.
	space := tune.DefaultSpace(h.Train)
	space.Factors = []int{16, 32, 64}
	cfg := tune.Config{
		Trials: 40,
		Budget: 20 * time.Minute,
		Seed:   1,
		// The first trial: the defaults before this search (K=64, α=1,
		// λ=30), trained as every trial is, with CG for 15 iterations.
		Base:  als.Params{Factors: 64, Alpha: 1, Lambda: 30, Iterations: 15, Seed: 1, Solver: als.SolverCG},
		Space: space,
		Split: split,
		Times: h.Times,
	}
	res, err := tune.Search(t.Context(), h.Train, cfg, func(tr tune.Trial) {
		t.Logf("trial %2d: K=%-3d α=%-8.3g λ=%-8.3g ndcg@10 %.4f p@10 %.4f (%.1fs)", tr.Number, tr.Params.Factors,
			tr.Params.Alpha, tr.Params.Lambda, tr.Validation.NDCG, tr.Validation.Precision, tr.Seconds)
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nspace: factors %v, α %v, λ %v; %d validation users; popularity ndcg@10 %.4f\n\n",
		res.Space.Factors, res.Space.Alpha, res.Space.Lambda, res.ValidationUsers, res.Popularity.NDCG)
	fmt.Println("| trial | K | α | λ | NDCG@10 (± s.e.) | P@10 | R@10 | s |\n|---|---|---|---|---|---|---|---|")
	for _, tr := range res.Sorted() {
		v := tr.Validation
		fmt.Printf("| %d | %d | %.3g | %.3g | %.4f ± %.4f | %.4f | %.4f | %.1f |\n", tr.Number, tr.Params.Factors,
			tr.Params.Alpha, tr.Params.Lambda, v.NDCG, v.NDCGStdErr, v.Precision, v.Recall, tr.Seconds)
	}
	best := res.Best
	users, items, err := als.Train(t.Context(), h.Train, best, nil)
	if err != nil {
		t.Fatal(err)
	}
	met, err := eval.Evaluate(t.Context(), h.Train, h.Items, eval.Factors{Users: users, Items: items}, 10)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nbest: K=%d α=%.3g λ=%.3g; on the holdout (not used to choose): %v\n", best.Factors, best.Alpha, best.Lambda, met)
}
