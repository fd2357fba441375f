package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.BatchStore = (*BatchStore)(nil)

// BatchStore keeps each user's latest precomputed list in table
// batch_recommendations, one row per user with the items as parallel
// arrays: a Get is one primary-key lookup, and a list of 100 items is
// about 2 KB on disk.
type BatchStore struct {
	pool *pgxpool.Pool
}

// Get implements ports.BatchStore.
func (s *BatchStore) Get(ctx context.Context, user domain.UserID) (domain.RecList, error) {
	var l domain.RecList
	var ids []string
	var scores []float64
	var titles []*string
	err := s.pool.QueryRow(ctx, `
		SELECT model_version, movie_ids, scores, titles, generated_at
		FROM batch_recommendations WHERE user_id = $1`, string(user)).
		Scan(&l.ModelVersion, &ids, &scores, &titles, &l.GeneratedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("batch list of %s: %w", user, ports.ErrNotFound)
	}
	if err != nil {
		return l, wrap("batch get", err)
	}
	if len(scores) != len(ids) || titles != nil && len(titles) != len(ids) {
		return l, fmt.Errorf("postgres: batch list of %s: %d ids, %d scores, %d titles", user, len(ids), len(scores), len(titles))
	}
	l.Tier, l.GeneratedAt = domain.TierBatch, l.GeneratedAt.UTC()
	l.Items = make([]domain.ScoredMovie, len(ids))
	for i, id := range ids {
		l.Items[i] = domain.ScoredMovie{MovieID: domain.MovieID(id), Score: scores[i]}
		if titles != nil && titles[i] != nil {
			l.Items[i].Title = *titles[i]
		}
	}
	return l, nil
}

// PutAll implements ports.BatchStore: the lists are copied into a
// temporary table and upserted in one statement, so a reader sees every
// user's old list or every user's new one, and 50K lists of 100 items
// take seconds. When a user appears twice, the last list wins.
func (s *BatchStore) PutAll(ctx context.Context, version string, lists []ports.BatchList) error {
	if len(lists) == 0 {
		return nil
	}
	lists = lastByKey(lists, func(b ports.BatchList) domain.UserID { return b.UserID })
	err := copyUpsert(ctx, s.pool, copySpec{
		table:   "batch_recommendations",
		columns: []string{"user_id", "model_version", "movie_ids", "scores", "titles", "generated_at"},
		rows:    len(lists),
		row: func(i int) ([]any, error) {
			bl := lists[i]
			ids, scores, titles := listArrays(bl.List.Items)
			return []any{string(bl.UserID), version, ids, scores, titles, bl.List.GeneratedAt}, nil
		},
		upsert: `
			INSERT INTO batch_recommendations (user_id, model_version, movie_ids, scores, titles, generated_at)
			SELECT user_id, model_version, movie_ids, scores, titles, generated_at FROM pg_temp.copy_batch_recommendations
			ON CONFLICT (user_id) DO UPDATE SET
				model_version = excluded.model_version, movie_ids = excluded.movie_ids,
				scores = excluded.scores, titles = excluded.titles, generated_at = excluded.generated_at`,
	})
	return wrap("batch put all", err)
}

// listArrays splits items into parallel arrays; titles is nil (SQL NULL)
// when no item has one, as training's lists do not.
func listArrays(items []domain.ScoredMovie) (ids []string, scores []float64, titles []string) {
	ids = make([]string, len(items))
	scores = make([]float64, len(items))
	hasTitle := false
	for i, it := range items {
		ids[i], scores[i] = string(it.MovieID), it.Score
		hasTitle = hasTitle || it.Title != ""
	}
	if hasTitle {
		titles = make([]string, len(items))
		for i, it := range items {
			titles[i] = it.Title
		}
	}
	return ids, scores, titles
}
