package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/marquee-recsys/marquee/adapters/movielens"
	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// importUsage is the usage line of `marquee import`.
const importUsage = "usage: marquee import movielens [-positive-min-rating N|off] DIR"

// importData is `marquee import movielens [-positive-min-rating N|off] DIR`.
// The flag overrides MARQUEE_POSITIVE_MIN_RATING for this import: weights
// are stored with the events, so the threshold an import runs with is the
// one its ratings keep (a re-import of the same events changes nothing).
func importData(args []string) error {
	if len(args) < 1 || args[0] != "movielens" {
		return fmt.Errorf(importUsage)
	}
	fs := flag.NewFlagSet("import movielens", flag.ContinueOnError)
	minRating := fs.String("positive-min-rating", "", "ratings below this (0.5 to 5, or off) are seen but no preference; default MARQUEE_POSITIVE_MIN_RATING")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf(importUsage)
	}
	dir := fs.Arg(0)
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if *minRating != "" {
		if cfg.Weights.PositiveMinRating, err = parseMinRating(*minRating); err != nil {
			return err
		}
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
	st, err := bootstrap.ImportMovieLens(ctx, stores, dir, cfg.Weights, logger, func(n int64) {
		fmt.Fprintf(os.Stderr, "\r  %d interactions stored", n)
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("imported %s (%s): %d movies, %d interactions (%d new), %d lines skipped, in %.1fs\n",
		dir, st.Layout, st.Movies, st.Interactions, st.Inserted, st.Skipped, st.Seconds)
	if cfg.Weights.PositiveMinRating > 0 {
		fmt.Printf("ratings below %g are stored as seen, with weight 0\n", cfg.Weights.PositiveMinRating)
	}
	return nil
}

// parseMinRating reads -positive-min-rating: "off" or a rating.
func parseMinRating(s string) (float64, error) {
	if s == "off" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= domain.MinRating && v <= domain.MaxRating) {
		return 0, fmt.Errorf("-positive-min-rating: want a rating from %g to %g, or off; got %q", domain.MinRating, domain.MaxRating, s)
	}
	return v, nil
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
