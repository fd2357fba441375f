package postgres_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// TestNearestRecallWithExclusions is the serving case at catalog scale:
// 20K movies × 64 factors and 100 seen movies: either each query's own 100
// best (a user who has seen exactly what the model likes most, which the
// index scan must walk past) or 100 random ones.
func TestNearestRecallWithExclusions(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	ctx := testCtx(t)
	m := randomModel("big", 20000, 64, 42)
	start := time.Now()
	must(t, db.Vectors().PutItemVectors(ctx, m))
	t.Logf("PutItemVectors of 20000×64 (COPY + HNSW build): %v", time.Since(start).Round(time.Millisecond))

	const queries = 50
	for _, seen := range []string{"its own 100 best", "100 random movies"} {
		r := rand.New(rand.NewPCG(8, 9))
		total := 0.0
		var took time.Duration
		for q := range queries {
			vec := randomVec(64, uint64(1000+q))
			exclude := setOf(exactTop(m, vec, 100, nil))
			if seen == "100 random movies" {
				exclude = domain.MovieSet{}
				for len(exclude) < 100 {
					exclude[m.Movies[r.IntN(len(m.Movies))]] = struct{}{}
				}
			}
			start := time.Now()
			got, err := db.Vectors().Nearest(ctx, "big", vec, 10, exclude)
			took += time.Since(start)
			must(t, err)
			if len(got) != 10 {
				t.Fatalf("query %d: %d results, want 10", q, len(got))
			}
			for i, s := range got {
				if exclude.Has(s.MovieID) {
					t.Fatalf("query %d: excluded movie %s returned", q, s.MovieID)
				}
				if i > 0 && s.Score > got[i-1].Score {
					t.Fatalf("query %d: results not in descending score order: %v", q, got)
				}
			}
			total += recall(got, exactTop(m, vec, 10, exclude))
		}
		r10 := total / queries
		t.Logf("recall@10 excluding %s, ef_search 100: %.3f over %d queries (mean latency %v)",
			seen, r10, queries, (took / queries).Round(time.Microsecond))
		if r10 < 0.95 {
			t.Errorf("excluding %s: mean recall@10 = %.3f, want ≥ 0.95", seen, r10)
		}
	}
	assertIndexPlan(t, db, "big", 64)
}

// assertIndexPlan checks that the planner serves Nearest from the HNSW
// index, with the generic plan a long-lived prepared statement gets: a
// sequential scan would pass every recall test while being slow.
func assertIndexPlan(t *testing.T, db *postgres.DB, version string, dims int) {
	t.Helper()
	ctx := testCtx(t)
	var id int64
	must(t, db.Pool().QueryRow(ctx, "SELECT id FROM vector_versions WHERE version = $1", version).Scan(&id))
	vec := "[" + strings.TrimSuffix(strings.Repeat("0.5,", dims), ",") + "]"
	err := pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(`EXPLAIN SELECT movie_id, embedding <#> $1 FROM item_vectors_%d
			WHERE movie_id <> ALL($2::text[]) ORDER BY embedding <#> $1 LIMIT 10`, id), vec, []string{"m00001"})
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "item_vectors_") || !strings.Contains(plan, "_hnsw") {
			t.Errorf("Nearest does not use the HNSW index:\n%s", plan)
		}
		return nil
	})
	must(t, err)
}

func TestVectorIndexEdges(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	x := db.Vectors()
	ctx := testCtx(t)

	t.Run("replacing a version swaps its vectors", func(t *testing.T) {
		must(t, x.PutItemVectors(ctx, &domain.Model{Version: "r", Factors: 2, Movies: []domain.MovieID{"a", "b"}, ItemFactors: []float32{1, 0, 0, 1}}))
		must(t, x.PutItemVectors(ctx, &domain.Model{Version: "r", Factors: 3, Movies: []domain.MovieID{"c"}, ItemFactors: []float32{1, 1, 1}}))
		got, err := x.Nearest(ctx, "r", []float32{1, 1, 1}, 5, nil)
		must(t, err)
		if len(got) != 1 || got[0].MovieID != "c" || got[0].Score < 2.999 || got[0].Score > 3.001 {
			t.Fatalf("after replace: %+v", got)
		}
		var tables int
		must(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'item_vectors_%'`, db.Schema()).Scan(&tables))
		if tables != 1 {
			t.Fatalf("%d item_vectors tables after a replace, want 1 (the old one dropped)", tables)
		}
	})
	t.Run("a second node sees a replaced version", func(t *testing.T) {
		other := openSchema(t, db.Schema())
		must(t, x.PutItemVectors(ctx, &domain.Model{Version: "n", Factors: 1, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1}}))
		if _, err := other.Vectors().Nearest(ctx, "n", []float32{1}, 1, nil); err != nil {
			t.Fatal(err) // caches the set's table
		}
		must(t, x.PutItemVectors(ctx, &domain.Model{Version: "n", Factors: 1, Movies: []domain.MovieID{"b"}, ItemFactors: []float32{1}}))
		got, err := other.Vectors().Nearest(ctx, "n", []float32{1}, 1, nil)
		if err != nil || len(got) != 1 || got[0].MovieID != "b" {
			t.Fatalf("other node after replace: %v, %v", got, err)
		}
		must(t, x.DropVersion(ctx, "n"))
		if _, err := other.Vectors().Nearest(ctx, "n", []float32{1}, 1, nil); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("other node after drop: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		must(t, x.PutItemVectors(ctx, &domain.Model{Version: "d", Factors: 2, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1, 2}}))
		if _, err := x.Nearest(ctx, "d", []float32{1, 2, 3}, 5, nil); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("wrong dimension: err = %v, want ErrInvalid", err)
		}
		dup := &domain.Model{Version: "dup", Factors: 1, Movies: []domain.MovieID{"a", "a"}, ItemFactors: []float32{1, 2}}
		if err := x.PutItemVectors(ctx, dup); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("movie listed twice: err = %v, want ErrInvalid", err)
		}
		if err := x.PutItemVectors(ctx, &domain.Model{Version: "bad", Factors: 2, ItemFactors: []float32{1}}); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("invalid model: err = %v, want ErrInvalid", err)
		}
		must(t, x.DropVersion(ctx, "never-stored"))
		got, err := x.Nearest(ctx, "d", []float32{1, 2}, 0, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("k=0: %v, %v", got, err)
		}
	})
	t.Run("everything excluded but one", func(t *testing.T) {
		m := randomModel("all", 500, 8, 9)
		must(t, x.PutItemVectors(ctx, m))
		exclude := setOf(m.Movies[1:])
		got, err := x.Nearest(ctx, "all", randomVec(8, 1), 10, exclude)
		if err != nil || len(got) != 1 || got[0].MovieID != m.Movies[0] {
			t.Fatalf("with 499 of 500 excluded: %v, %v", got, err)
		}
	})
}
