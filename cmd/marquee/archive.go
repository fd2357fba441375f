package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/telemetry"
)

// archive is `marquee archive`: one archiving run against the configured
// stores, with the archiver actor a node runs.
func archive(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("archive takes no arguments (configure it with MARQUEE_* variables)")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("MARQUEE_DATABASE_URL is not set: an embedded node's hot table lives in its own memory " +
			"(use POST /api/admin/archive there, or configure PostgreSQL)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := bootstrap.NewLogger(cfg)
	stores, closeStores, err := bootstrap.OpenStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStores()
	ac := actors.Config{Archiver: actors.ArchiverConfig{Retention: cfg.HotRetention, Every: -1, Chunk: cfg.ArchiveChunk}}
	sys, err := actors.Start(ac, actors.Deps{
		Log: stores.Log, Profiles: stores.Profiles, Cache: stores.Cache, Vectors: stores.Vectors, Batch: stores.Batch,
		Popular: stores.Popular, Catalog: stores.Catalog, Analytics: stores.Analytics, Models: actors.NewModels(stores.Models),
		Metrics: telemetry.New(), Logger: logger, Archive: stores.Archive, Ledger: stores.Ledger,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := sys.Stop(context.Background()); err != nil {
			logger.Warn("stopping the actor system", "err", err)
		}
	}()
	run, _, err := sys.Archive(ctx, "cli")
	if err != nil {
		return err
	}
	for run.Running {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		st, err := sys.ArchiveStatus(ctx)
		if err != nil {
			return err
		}
		if st.Current != nil && st.Current.ID == run.ID {
			run = *st.Current
		}
		fmt.Fprintf(os.Stderr, "\r  %d files, %d rows archived", run.Files, run.Rows)
	}
	fmt.Fprintln(os.Stderr)
	if run.Error != "" {
		return fmt.Errorf("archiving stopped: %s (the rows not moved stay in the hot table)", run.Error)
	}
	fmt.Printf("archived %d rows into %d files (%d bytes) in %.1fs; %d orphan files removed\n",
		run.Rows, run.Files, run.Bytes, run.Seconds, run.Orphans)
	return nil
}
