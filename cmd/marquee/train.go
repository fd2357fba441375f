package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
)

// train is `marquee train`: one training job against the configured
// stores, with the same trainer actors and pipeline a node runs, and a
// progress bar on stderr. A running node picks the new model up from the
// registry.
func train(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("train takes no arguments (configure it with MARQUEE_* variables)")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := bootstrap.NewLogger(cfg)
	stores, closeStores, err := bootstrap.OpenStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStores()
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("MARQUEE_DATABASE_URL is not set: there is nothing to train on outside a running embedded node " +
			"(use POST /api/admin/train there, or configure PostgreSQL)")
	}
	sys, err := actors.Start(actors.Config{Shards: cfg.TrainShards}, actors.Deps{
		Log: stores.Log, Profiles: stores.Profiles, Cache: stores.Cache, Vectors: stores.Vectors, Batch: stores.Batch,
		Popular: stores.Popular, Catalog: stores.Catalog, Analytics: stores.Analytics, Models: actors.NewModels(stores.Models),
		Metrics: telemetry.New(), Logger: logger, Training: bootstrap.NewPipeline(cfg, stores, logger),
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := sys.Stop(context.Background()); err != nil {
			logger.Warn("stopping the actor system", "err", err)
		}
	}()
	job, err := bootstrap.TrainAndWait(ctx, sys, "cli", training.Options{}, drawProgress)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("model %s: promoted=%v (%s)\n", job.ModelVersion, job.Promoted, job.GateReason)
	for _, k := range []string{"precision@10", "recall@10", "ndcg@10", "map@10", "coverage@10"} {
		fmt.Printf("  %-13s %.4f   popularity %.4f\n", k, job.Metrics[k], job.Metrics["popularity_"+k])
	}
	if noise, ok := job.Metrics["ndcg@10_noise"]; ok {
		fmt.Printf("  tuning: tuned ndcg@10 %.4f, incumbent %.4f, retrain noise %.4f, needed a gain over %.4f\n",
			job.Metrics["tuned_ndcg@10"], job.Metrics["incumbent_ndcg@10"], noise, job.Metrics["ndcg@10_margin"])
	}
	return nil
}

// drawProgress redraws one status line: phase, a bar of the iterations,
// the loss and the elapsed time.
func drawProgress(j training.Job) {
	const width = 30
	done := 0
	if j.Iterations > 0 {
		done = width * j.Iteration / j.Iterations
	}
	bar := strings.Repeat("#", done) + strings.Repeat(".", width-done)
	elapsed := time.Since(j.StartedAt)
	if j.Done() {
		elapsed = j.FinishedAt.Sub(j.StartedAt)
	}
	fmt.Fprintf(os.Stderr, "\r  %-10s [%s] %d/%d loss %.4g  %s   ", j.Phase, bar, j.Iteration, j.Iterations, j.Loss,
		elapsed.Round(100*time.Millisecond))
}
