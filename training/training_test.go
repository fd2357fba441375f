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
	"github.com/marquee-recsys/marquee/domain/synth"
	"github.com/marquee-recsys/marquee/ports"
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
	t.Helper()
	ctx := context.Background()
	movies := synth.Movies(300, 1)
	cfg := synth.DefaultConfig()
	cfg.Users = users
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
		Config:  Config{Params: p, GateTolerance: 0.02, KeepCandidates: 3},
		Sources: []Scanner{w.log.Scan},
		Sinks:   Sinks{Vectors: memory.NewVectorIndex(), Batch: w.batch, Models: w.model, Profiles: w.prof},
		Log:     quiet, Now: time.Now,
	}
	return w
}

// run does what the trainer actors do between Prepare and Finish.
func (w *world) run(t *testing.T) *Outcome {
	t.Helper()
	ctx := context.Background()
	plan, err := w.p.Prepare(ctx, Options{}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	fitUsers, items, err := als.Train(ctx, plan.Fit, plan.Params, nil)
	if err != nil {
		t.Fatal(err)
	}
	users := als.NewFactors(plan.Full.Rows, plan.Params.Factors)
	if err := als.SolveRows(users, 0, plan.Full.Rows, plan.Full, items, als.Gram(items), plan.FinalParams()); err != nil {
		t.Fatal(err)
	}
	out, err := w.p.Finish(ctx, plan, fitUsers, users, items, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	return out
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
		for i := range vec {
			if d := vec[i] - p.Vector[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("profile vector of %s differs from its fold-in at %d: %v vs %v", u, i, p.Vector[i], vec[i])
			}
		}
	}
}

func TestGateKeepsAWorseModelAsACandidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, 300)
	// A serving model that scored far better than anything this data allows.
	serving := &domain.Model{Version: "serving", Factors: 1, Movies: []domain.MovieID{"x"}, ItemFactors: []float32{1},
		Metrics: map[string]float64{"ndcg@10": 0.99}}
	if err := w.model.Save(ctx, serving); err != nil {
		t.Fatal(err)
	}
	if err := w.model.Promote(ctx, "serving"); err != nil {
		t.Fatal(err)
	}
	out := w.run(t)
	if out.Promoted || out.GateReason == "" {
		t.Fatalf("a worse model was promoted: %+v", out)
	}
	cur, _ := w.model.Current(ctx)
	if cur.Version != "serving" {
		t.Fatalf("serving model changed to %s", cur.Version)
	}
	if _, err := w.batch.Get(ctx, "user_0"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatal("a candidate's batch lists were published")
	}
	all, _ := w.model.List(ctx)
	if len(all) != 2 || all[0].Status != domain.ModelCandidate {
		t.Fatalf("registry: %+v", all)
	}

	// The same run against a weaker serving model is promoted.
	serving2 := *serving
	serving2.Version, serving2.Metrics = "weak", map[string]float64{"ndcg@10": 0.01}
	if err := w.model.Save(ctx, &serving2); err != nil {
		t.Fatal(err)
	}
	if err := w.model.Promote(ctx, "weak"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // versions are named to the millisecond
	if out := w.run(t); !out.Promoted {
		t.Fatalf("a better model was kept back: %s", out.GateReason)
	}
}

func TestNoDataFailsPrepare(t *testing.T) {
	t.Parallel()
	p := &Pipeline{Sources: []Scanner{memory.NewInteractionLog().Scan}, Log: quiet, Now: time.Now}
	if _, err := p.Prepare(context.Background(), Options{}, func(string) {}); !errors.Is(err, ErrNoData) {
		t.Fatalf("err = %v, want ErrNoData", err)
	}
}
