package training

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
	"github.com/marquee-recsys/marquee/domain/synth"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world is a synthetic dataset in memory stores and a pipeline over them.
type world struct {
	p     *Pipeline
	batch *memory.BatchStore
	model *memory.ModelStore
	prof  *memory.ProfileStore
	log   *memory.InteractionLog
}

func newWorld(t *testing.T, users int) *world {
	return newWorldWeighted(t, users, domain.DefaultWeights())
}

// newWorldWeighted is newWorld with the synthetic events weighed by w.
func newWorldWeighted(t *testing.T, users int, weights domain.Weights) *world {
	t.Helper()
	ctx := context.Background()
	movies := synth.Movies(300, 1)
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Weights = users, weights
	gen, err := synth.New(cfg, movies)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{batch: memory.NewBatchStore(), model: memory.NewModelStore(), prof: memory.NewProfileStore(nil), log: memory.NewInteractionLog()}
	if err := gen.Each(func(ev domain.Interaction) error { _, err := w.log.Append(ctx, ev); return err }); err != nil {
		t.Fatal(err)
	}
	p := als.DefaultParams()
	p.Factors, p.Iterations = 16, 5
	w.p = &Pipeline{
		Config:  Config{Params: p, MinGain: 0.02},
		Sources: []Scanner{w.log.Scan},
		Sinks:   Sinks{Vectors: memory.NewVectorIndex(), Batch: w.batch, Models: w.model, Profiles: w.prof},
		Log:     quiet, Now: time.Now,
	}
	return w
}

// run does what the trainer actors do between Prepare and Finish.
func (w *world) run(t *testing.T) *Outcome {
	t.Helper()
	out, _ := w.runPlan(t)
	return out
}

// runPlan is run, also returning the plan.
func (w *world) runPlan(t *testing.T) (*Outcome, *Plan) {
	t.Helper()
	ctx := context.Background()
	plan, err := w.p.Prepare(ctx, Options{}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	var holdout, full Fitted
	var err2 error
	holdout.Users, holdout.Items, err = als.Train(ctx, plan.Fit, plan.Params, nil)
	full.Users, full.Items, err2 = als.Train(ctx, plan.Full, plan.Params, nil)
	if err := errors.Join(err, err2); err != nil {
		t.Fatal(err)
	}
	out, err := w.p.Finish(ctx, plan, holdout, full, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	// The model is the full fit; its metrics are the holdout fit's.
	if !slices.Equal(out.Model.ItemFactors, full.Items.Data) || plan.Refit() && slices.Equal(out.Model.ItemFactors, holdout.Items.Data) {
		t.Fatal("the model's item factors are not the full fit's")
	}
	if plan.HoldoutUsers() > 0 {
		m, err := eval.Evaluate(ctx, plan.Fit, plan.Holdout, eval.Factors{Users: holdout.Users, Items: holdout.Items}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if out.Model.Metrics["ndcg@10"] != m.NDCG {
			t.Fatalf("model ndcg@10 %v, the holdout fit's %v", out.Model.Metrics["ndcg@10"], m.NDCG)
		}
	}
	return out, plan
}

func TestPipelineEvaluatesAndPublishes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 400)
	out := w.run(t)
	m := out.Model
	if !out.Promoted || m.Metrics["ndcg@10"] <= m.Metrics["popularity_ndcg@10"] || m.Metrics["holdout_users"] == 0 {
		t.Fatalf("promoted=%v metrics=%v", out.Promoted, m.Metrics)
	}
	if m.Users != 400 || m.Interactions != w.log.Len() || m.Iterations != 5 || m.TrainSeconds <= 0 {
		t.Fatalf("model metadata: %+v", m)
	}
	cur, err := w.model.Current(context.Background())
	if err != nil || cur.Version != m.Version {
		t.Fatalf("serving model: %v, %v", cur, err)
	}
	ctx := context.Background()
	for _, u := range []domain.UserID{"user_0", "user_7", "user_399"} {
		l, err := w.batch.Get(ctx, u)
		if err != nil || len(l.Items) != 100 || l.ModelVersion != m.Version {
			t.Fatalf("batch list of %s: %d items, %v", u, len(l.Items), err)
		}
		h, _ := w.log.UserHistory(ctx, u)
		for _, it := range l.Items {
			if slices.ContainsFunc(h, func(ev domain.Interaction) bool { return ev.MovieID == it.MovieID }) {
				t.Fatalf("batch list of %s holds seen movie %s", u, it.MovieID)
			}
		}
		p, err := w.prof.Get(ctx, u)
		if err != nil || p.ModelVersion != m.Version || p.InteractionCount != len(h) || len(p.Vector) != 16 {
			t.Fatalf("profile of %s: %+v, %v", u, p, err)
		}
		// The published vector is the exact fold-in of the whole history.
		f, _ := als.FolderFromModel(cur)
		prefs := domain.NewPreferences()
		for _, ev := range h {
			prefs.Add(ev)
		}
		vec, err := f.FoldInMovies(prefs.Weights)
		if err != nil {
			t.Fatal(err)
		}
		// Bit for bit: the full fit's last user half-step is the exact
		// solve the fold-in performs, against the same item factors.
		if !slices.Equal(vec, p.Vector) {
			t.Fatalf("profile vector of %s differs from its fold-in:\n%v\n%v", u, p.Vector, vec)
		}
	}
}

func TestNoDataFailsPrepare(t *testing.T) {
	t.Parallel()
	p := &Pipeline{Sources: []Scanner{memory.NewInteractionLog().Scan}, Log: quiet, Now: time.Now}
	if _, err := p.Prepare(context.Background(), Options{}, func(string) {}); !errors.Is(err, ErrNoData) {
		t.Fatalf("err = %v, want ErrNoData", err)
	}
}
