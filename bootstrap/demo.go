package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/bootstrap/demodata"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/synth"
	"github.com/marquee-recsys/marquee/training"
)

// loadDemo fills an empty embedded node with something to look at: the
// demo catalog, synthetic users with genre tastes whose history ends now,
// and a model trained on them, so every tier answers from the first
// request.
//
// History is written straight to the interaction log and popularity
// store rather than through Kafka: it is a bulk load into empty stores,
// and user actors reconcile each user's profile from the log when they
// first start (the profile's interaction count will not match).
func loadDemo(ctx context.Context, s Stores, models *actors.Models, cfg Config, log *slog.Logger) error {
	start := time.Now()
	movies, err := demodata.Movies()
	if err != nil {
		return err
	}
	if err := s.Catalog.Put(ctx, movies...); err != nil {
		return err
	}
	sc := synth.DefaultConfig()
	sc.Users, sc.Weights = cfg.DemoUsers, cfg.Weights
	sc.Start = time.Now().Add(-sc.Span - time.Minute).UTC().Truncate(time.Second)
	gen, err := synth.New(sc, movies)
	if err != nil {
		return err
	}
	events := 0
	err = gen.Each(func(ev domain.Interaction) error {
		if _, err := s.Log.Append(ctx, ev); err != nil {
			return err
		}
		events++
		return s.Popular.Record(ctx, ev.MovieID, ev.Weight, ev.Time)
	})
	if err != nil {
		return fmt.Errorf("synthetic history: %w", err)
	}
	ds, err := training.Load(ctx, s.Archive.Scan, s.Log.Scan)
	if err != nil {
		return err
	}
	now := time.Now()
	res, err := training.Fit(ctx, ds, als.DefaultParams(), training.Version(now), 100, now, log)
	if err != nil {
		return err
	}
	if err := training.Publish(ctx, training.Sinks{Vectors: s.Vectors, Batch: s.Batch, Models: s.Models}, res); err != nil {
		return err
	}
	if _, err := models.Refresh(ctx); err != nil {
		return err
	}
	log.Info("demo data loaded", "movies", len(movies), "users", sc.Users, "events", events,
		"model", res.Model.Version, "seconds", time.Since(start).Seconds())
	return nil
}
