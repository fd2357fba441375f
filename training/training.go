// Package training is the offline path: it loads every interaction through
// the ports (archive and hot table), trains implicit ALS, computes each
// user's batch list, and publishes the model so the serving tiers use it.
//
// This first version runs the whole pipeline in one call; the sharded
// trainer actors, holdout evaluation and the cron schedule build on it.
package training

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// Dataset is all history as a user × movie matrix with dense indices.
type Dataset struct {
	Users  []domain.UserID
	Movies []domain.MovieID
	Matrix *als.Matrix // rows: users, columns: movies; entries: summed weights
	Events int
}

// Scanner streams interactions (ports.InteractionLog.Scan, ports.Archive.Scan).
type Scanner func(ctx context.Context, fn func(domain.Interaction) error) error

// Load reads every source into a Dataset. An event present in two sources
// (archived, and not yet deleted from the hot table) counts once.
func Load(ctx context.Context, sources ...Scanner) (*Dataset, error) {
	ds := &Dataset{}
	users, movies := map[domain.UserID]int{}, map[domain.MovieID]int{}
	seen := map[string]struct{}{}
	var b als.Builder
	for _, scan := range sources {
		err := scan(ctx, func(ev domain.Interaction) error {
			if _, dup := seen[ev.EventID]; dup {
				return nil
			}
			seen[ev.EventID] = struct{}{}
			u, ok := users[ev.UserID]
			if !ok {
				u = len(ds.Users)
				users[ev.UserID] = u
				ds.Users = append(ds.Users, ev.UserID)
			}
			m, ok := movies[ev.MovieID]
			if !ok {
				m = len(ds.Movies)
				movies[ev.MovieID] = m
				ds.Movies = append(ds.Movies, ev.MovieID)
			}
			b.Add(u, m, ev.Weight)
			ds.Events++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load interactions: %w", err)
		}
	}
	var err error
	ds.Matrix, err = b.Build(len(ds.Users), len(ds.Movies))
	return ds, err
}

// Result is a trained model and the batch lists it produced.
type Result struct {
	Model *domain.Model
	Lists []ports.BatchList
}

// ErrNoData means there is nothing to train on.
var ErrNoData = errors.New("training: no interactions")

// Fit trains ALS on ds and computes the top depth movies for every user,
// leaving out every movie the user interacted with.
func Fit(ctx context.Context, ds *Dataset, p als.Params, version string, depth int, now time.Time, log *slog.Logger) (*Result, error) {
	if ds.Events == 0 {
		return nil, ErrNoData
	}
	start := time.Now()
	users, items, err := als.Train(ctx, ds.Matrix, p, func(pr als.Progress) {
		log.Info("training", "version", version, "iteration", pr.Iteration, "loss", pr.Loss, "elapsed", pr.Elapsed.Round(time.Millisecond))
	})
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", version, err)
	}
	model, err := als.ModelFromFactors(version, slices.Clone(ds.Movies), items, p, now)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: model, Lists: make([]ports.BatchList, len(ds.Users))}
	for u, id := range ds.Users {
		cols, _ := ds.Matrix.Row(u)
		seen := func(i int) bool { _, found := slices.BinarySearch(cols, int32(i)); return found }
		top := als.TopK(items, users.Row(u), depth, seen)
		list := domain.RecList{Tier: domain.TierBatch, ModelVersion: version, GeneratedAt: now, Items: make([]domain.ScoredMovie, len(top))}
		for j, s := range top {
			list.Items[j] = domain.ScoredMovie{MovieID: ds.Movies[s.Index], Score: float64(s.Score)}
		}
		res.Lists[u] = ports.BatchList{UserID: id, List: list}
	}
	log.Info("model trained", "version", version, "users", len(ds.Users), "movies", len(ds.Movies),
		"events", ds.Events, "seconds", time.Since(start).Seconds())
	return res, nil
}

// Sinks are where a trained model is published.
type Sinks struct {
	Vectors ports.VectorIndex
	Batch   ports.BatchStore
	Models  ports.ModelStore
}

// Publish makes res the serving model. Item vectors and batch lists are
// written first and the registry last, so that no node ever serves a model
// version whose vectors are not yet searchable.
func Publish(ctx context.Context, s Sinks, res *Result) error {
	if err := s.Vectors.PutItemVectors(ctx, res.Model); err != nil {
		return fmt.Errorf("publish %s: item vectors: %w", res.Model.Version, err)
	}
	if err := s.Batch.PutAll(ctx, res.Model.Version, res.Lists); err != nil {
		return fmt.Errorf("publish %s: batch lists: %w", res.Model.Version, err)
	}
	if err := s.Models.Save(ctx, res.Model); err != nil {
		return fmt.Errorf("publish %s: registry: %w", res.Model.Version, err)
	}
	if err := s.Models.Promote(ctx, res.Model.Version); err != nil {
		return fmt.Errorf("publish %s: promote: %w", res.Model.Version, err)
	}
	return nil
}

// Version names a model by its training time, so versions sort by age.
func Version(now time.Time) string {
	return "als-" + now.UTC().Format("20060102-150405")
}
