package postgres_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/domain"
)

// TestMigrationOfServedItems: the lists logged as jsonb documents before
// migration 00007 read back the same after it, as arrays (titles, a list
// without titles, an empty list), and going down turns the arrays back
// into the documents.
func TestMigrationOfServedItems(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	ctx, pool := testCtx(t), db.Pool()
	must(t, postgres.MigrateTo(ctx, pool, 6))
	docs := map[string]string{
		"with-titles": `[{"position":1,"movie_id":"m1","score":0.5,"title":"One \"1\""},{"position":2,"movie_id":"m2","score":1e-9,"title":"Two"}]`,
		"no-titles":   `[{"position":1,"movie_id":"m3","score":3},{"position":2,"movie_id":"m4","score":-2}]`,
		"empty":       `[]`,
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for id, doc := range docs {
		_, err := pool.Exec(ctx, `INSERT INTO recommendation_logs
			(rec_log_id, user_id, served_by, source_tier, model_version, generated_at, items, latency, served_at, requested)
			VALUES ($1, 'u1', 'cache', 'vector', 'v1', $2, $3::jsonb, '1 millisecond', $2, 2)`, id, at, doc)
		must(t, err)
	}
	must(t, postgres.MigrateTo(ctx, pool, 7))
	want := map[string][]domain.ScoredMovie{
		"with-titles": {{MovieID: "m1", Score: 0.5, Title: `One "1"`}, {MovieID: "m2", Score: 1e-9, Title: "Two"}},
		"no-titles":   {{MovieID: "m3", Score: 3}, {MovieID: "m4", Score: -2}},
		"empty":       {},
	}
	for id, items := range want {
		got, err := db.Analytics().ServedList(ctx, id)
		must(t, err)
		if !sameItems(got.List.Items, items) || got.Latency != time.Millisecond || got.Requested != 2 {
			t.Fatalf("%s after the migration: %+v, want items %+v", id, got, items)
		}
	}
	// A score jsonb cannot hold as a number goes down as no score.
	must(t, db.Analytics().LogServed(ctx, domain.Served{RecLogID: "nan", UserID: "u1", ServedBy: domain.TierCache, ServedAt: at,
		List: domain.RecList{Tier: domain.TierVector, GeneratedAt: at, Items: []domain.ScoredMovie{{MovieID: "m9", Score: math.NaN()}}}}))
	docs["nan"] = `[{"position":1,"movie_id":"m9"}]`
	must(t, postgres.MigrateTo(ctx, pool, 6))
	for id, doc := range docs {
		var back string
		must(t, pool.QueryRow(ctx, `SELECT items::text FROM recommendation_logs WHERE rec_log_id = $1`, id).Scan(&back))
		var a, b any
		must(t, json.Unmarshal([]byte(back), &a))
		must(t, json.Unmarshal([]byte(doc), &b))
		if !jsonEqual(a, b) {
			t.Fatalf("%s down again: %s, want %s", id, back, doc)
		}
	}
	must(t, postgres.MigrateTo(ctx, pool, 7))
}

func sameItems(a, b []domain.ScoredMovie) bool {
	return slices.EqualFunc(a, b, func(x, y domain.ScoredMovie) bool {
		return x.MovieID == y.MovieID && x.Score == y.Score && x.Title == y.Title
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
