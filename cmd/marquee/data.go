package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/marquee-recsys/marquee/adapters/movielens"
	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// importData is `marquee import movielens DIR`.
func importData(args []string) error {
	if len(args) != 2 || args[0] != "movielens" {
		return fmt.Errorf("usage: marquee import movielens DIR")
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
		logger.Warn("MARQUEE_DATABASE_URL is not set: importing into memory, which ends with this command")
	}
	st, err := bootstrap.ImportMovieLens(ctx, stores, args[1], cfg.Weights, logger, func(n int64) {
		fmt.Fprintf(os.Stderr, "\r  %d interactions stored", n)
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("imported %s (%s): %d movies, %d interactions (%d new), %d lines skipped, in %.1fs\n",
		args[1], st.Layout, st.Movies, st.Interactions, st.Inserted, st.Skipped, st.Seconds)
	return nil
}

// gen is `marquee gen`: a synthetic dataset with latent taste structure
// and power-law popularity, written in MovieLens layout for `marquee import`.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("out", "", "output directory (required)")
	users := fs.Int("users", 50000, "users")
	movies := fs.Int("movies", 20000, "movies")
	interactions := fs.Int("interactions", 10_000_000, "interactions, approximately (the per-user count is power-law distributed)")
	seed := fs.Int64("seed", 1, "random seed (same seed, same dataset)")
	span := fs.Duration("span", 90*24*time.Hour, "history length, ending now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *users < 1 || *movies < 1 || *interactions < *users {
		return fmt.Errorf("gen needs -out, users ≥ 1, movies ≥ 1 and interactions ≥ users")
	}
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Seed, cfg.Span = *users, *seed, *span
	cfg.MeanEventsPerUser = float64(*interactions) / float64(*users)
	cfg.Start = time.Now().Add(-*span - time.Minute).UTC().Truncate(time.Second)
	catalog := synth.Movies(*movies, *seed)
	g, err := synth.New(cfg, catalog)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := movielens.Write(context.Background(), *out, catalog, func(fn func(domain.Interaction) error) error { return g.Each(fn) })
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %+v in %.1fs\n", *out, st, time.Since(start).Seconds())
	return nil
}
