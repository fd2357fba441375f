package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/marquee-recsys/marquee/bootstrap/demodata"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// loadDemo fills an empty embedded node with something to look at: the
// demo catalog and synthetic users with genre tastes whose history ends
// now. The first model is then trained at start like any other.
//
// History is written straight to the interaction log and popularity
// store rather than through Kafka: it is a bulk load into empty stores,
// and user actors reconcile each user's profile from the log when they
// first start (the profile's interaction count will not match).
func loadDemo(ctx context.Context, s Stores, cfg Config, log *slog.Logger) error {
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
	events, err := storeAll(ctx, s, func(fn func(domain.Interaction) error) error { return gen.Each(fn) }, nil)
	if err != nil {
		return fmt.Errorf("synthetic history: %w", err)
	}
	log.Info("demo data loaded", "movies", len(movies), "users", sc.Users, "events", events, "seconds", time.Since(start).Seconds())
	return nil
}
