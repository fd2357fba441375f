package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/synth"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
)

// benchTrain is `marquee bench-train`: one full training job (load, split,
// iterations on the shard actors, evaluation, batch lists for every user,
// publishing) on a synthetic dataset streamed from the generator, so that
// the figures are those of training and not of holding the raw events.
func benchTrain(args []string) error {
	fs := flag.NewFlagSet("bench-train", flag.ContinueOnError)
	users := fs.Int("users", 50000, "users")
	movies := fs.Int("movies", 20000, "movies")
	interactions := fs.Int("interactions", 10_000_000, "interactions, approximately")
	factors := fs.Int("factors", 64, "factors (K)")
	iterations := fs.Int("iterations", 15, "iterations")
	solver := fs.String("solver", als.SolverCG, "cg or cholesky")
	alpha := fs.Float64("alpha", als.DefaultParams().Alpha, "confidence scale α")
	lambda := fs.Float64("lambda", als.DefaultParams().Lambda, "regularization λ")
	shards := fs.Int("shards", 0, "shard actors (0: GOMAXPROCS)")
	seed := fs.Int64("seed", 1, "dataset seed")
	verbose := fs.Bool("v", false, "log progress")
	tuneOn := fs.Bool("tune", false, "search factors, α and λ on a validation split first (the winner is kept only if it beats -factors/-alpha/-lambda on the holdout)")
	trials := fs.Int("tune-trials", 20, "trials of the search")
	budget := fs.Duration("tune-budget", 2*time.Hour, "safety cap on the search's time (a search it cuts is reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Seed = *users, *seed
	cfg.MeanEventsPerUser = float64(*interactions) / float64(*users)
	cfg.Start = time.Now().Add(-cfg.Span - time.Minute).UTC().Truncate(time.Second)
	gen, err := synth.New(cfg, synth.Movies(*movies, *seed))
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	p := als.DefaultParams()
	p.Factors, p.Iterations, p.Solver, p.Alpha, p.Lambda = *factors, *iterations, *solver, *alpha, *lambda
	registry := memory.NewModelStore()
	vectors, batch, profiles := memory.NewVectorIndex(), memory.NewBatchStore(), memory.NewProfileStore(registry)
	models := &savedModels{ModelStore: registry}
	pipeline := &training.Pipeline{
		Config: training.Config{Params: p, Tune: *tuneOn, TuneTrials: *trials, TuneBudget: *budget, MinGain: 0.02},
		Sources: []training.Scanner{func(_ context.Context, fn func(domain.Interaction) error) error {
			return gen.Each(fn)
		}},
		Sinks: training.Sinks{Vectors: vectors, Batch: batch, Models: models, Profiles: profiles},
		Log:   logger, Now: time.Now,
	}
	sys, err := actors.Start(actors.Config{Shards: *shards}, actors.Deps{
		Log: memory.NewInteractionLog(), Profiles: profiles, Cache: memory.NewCache(nil), Vectors: vectors, Batch: batch,
		Popular: memory.NewPopularStore(domain.DefaultPopularity()), Catalog: memory.NewCatalog(), Analytics: memory.NewAnalytics(),
		Models: actors.NewModels(models), Metrics: telemetry.New(), Logger: logger, Training: pipeline,
	})
	if err != nil {
		return err
	}
	defer func() { _ = sys.Stop(context.Background()) }()
	start := time.Now()
	job, err := trainAndWait(sys, *tuneOn)
	if err != nil {
		return err
	}
	total := time.Since(start).Seconds()
	m := models.last // promoted or not: a model below popularity is kept as a candidate
	if m == nil {
		return fmt.Errorf("training saved no model")
	}
	if !job.Promoted {
		fmt.Printf("not promoted: %s\n", job.GateReason)
	}
	t := job.Timings
	fmt.Printf("| users | movies | interactions | K | α | λ | solver | shards | iterations | s/iteration | training s | refitting s | load s | tuning s | evaluate s | publish (batch lists + profiles) s | total s | peak RSS GiB | NDCG@10 | popularity NDCG@10 |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d | %d | %d | %.3g | %.3g | %s | %d | %d | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.4f | %.4f |\n",
		m.Users, len(m.Movies), m.Interactions, m.Factors, m.Alpha, m.Lambda, m.Solver, effectiveShards(*shards), job.Iterations,
		t[training.PhaseTraining]/float64(job.Iterations), t[training.PhaseTraining], t[training.PhaseRefitting], t[training.PhaseLoading], t[training.PhaseTuning],
		t[training.PhaseEvaluating], t[training.PhasePublishing], total, peakRSSGiB(),
		m.Metrics["ndcg@10"], m.Metrics["popularity_ndcg@10"])
	return nil
}

// savedModels remembers the last model saved, promoted or not.
type savedModels struct {
	*memory.ModelStore
	last *domain.Model
}

func (s *savedModels) Save(ctx context.Context, m *domain.Model) error {
	s.last = m
	return s.ModelStore.Save(ctx, m)
}

func trainAndWait(sys *actors.System, tune bool) (training.Job, error) {
	job, _, err := sys.Train(context.Background(), "bench", training.Options{Tune: &tune})
	if err != nil {
		return job, err
	}
	for !job.Done() {
		time.Sleep(100 * time.Millisecond)
		if job, _, err = sys.Job(context.Background(), job.ID); err != nil {
			return job, err
		}
	}
	if job.State == training.JobFailed {
		return job, fmt.Errorf("training failed: %s", job.Error)
	}
	return job, nil
}

func effectiveShards(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// peakRSSGiB reads the process's peak resident set (VmHWM) from /proc.
func peakRSSGiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb); err != nil {
				return 0
			}
			return kb / (1 << 20)
		}
	}
	return 0
}
