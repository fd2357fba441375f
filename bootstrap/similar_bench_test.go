package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/domain"
)

// BenchmarkSimilarEndpoint measures GET /api/movies/{id}/similar?n=10
// over HTTP on a node with every store on PostgreSQL + pgvector (the
// cache on Redis), MovieLens-100K imported at start and a model trained
// on it (1,682 movies × 64 factors), one client: p50-us and p99-us are
// the latency percentiles of the requests measured. Variants: a random
// movie (method factors), the same with a genre filter and with user_id
// (the user's history read too), and a movie the model does not know
// (method genres). Skipped without ../shared/data/ml-100k.
//
//	nice -n 19 taskset -c 1 go test -run '^$' -bench SimilarEndpoint -benchtime 3000x -count 3 ./bootstrap/
func BenchmarkSimilarEndpoint(b *testing.B) {
	dir, err := filepath.Abs("../../shared/data/ml-100k")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "u.data")); err != nil {
		b.Skipf("%s not present", dir)
	}
	dbURL := envOr("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	redisURL := envOr("MARQUEE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	schema := fmt.Sprintf("marquee_simbench_%d", rand.Uint32())
	ctx := context.Background()
	b.Cleanup(func() {
		if conn, err := pgx.Connect(ctx, dbURL); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	env := map[string]string{
		"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema,
		"MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": schema, "MARQUEE_KAFKA_DATA_DIR": b.TempDir(),
		"MARQUEE_DATASET": dir, "MARQUEE_TRAIN_CRON": "off", "MARQUEE_TRAIN_TUNE": "false", "MARQUEE_ARCHIVE_EVERY": "off",
		"MARQUEE_INSECURE_DEV": "true", "MARQUEE_RATE_LIMIT": "off", "MARQUEE_LOG_LEVEL": "warn",
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	app, cleanup, err := New(cctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Skipf("no node on the real services: %v", err)
	}
	defer cleanup()
	go func() { _ = app.Run(cctx) }()
	movies, err := app.Stores.Catalog.List(ctx, "", 5000)
	if err != nil || len(movies) < 1000 {
		b.Fatalf("catalog: %d movies, %v", len(movies), err)
	}
	cold := domain.Movie{ID: "cold-bench-movie", Title: "New this week", Year: 1997, Genres: []string{"Drama", "Romance"}}
	if err := app.Stores.Catalog.Put(ctx, cold); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(path string) similarAnswer {
		r, err := client.Get(app.URL() + path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		var s similarAnswer
		if r.StatusCode != http.StatusOK || json.Unmarshal(body, &s) != nil {
			b.Fatalf("GET %s: %d %s", path, r.StatusCode, body)
		}
		return s
	}
	for _, v := range []struct {
		name, method string
		path         func(r *rand.Rand) string
	}{
		{"factors", "factors", func(r *rand.Rand) string {
			return fmt.Sprintf("/api/movies/%s/similar?n=10", movies[r.IntN(len(movies))].ID)
		}},
		{"factors+genre", "factors", func(r *rand.Rand) string {
			return fmt.Sprintf("/api/movies/%s/similar?n=10&genre=Comedy", movies[r.IntN(len(movies))].ID)
		}},
		{"factors+user", "factors", func(r *rand.Rand) string {
			return fmt.Sprintf("/api/movies/%s/similar?n=10&user_id=ml_u%d", movies[r.IntN(len(movies))].ID, 1+r.IntN(943))
		}},
		{"genres(cold)", "genres", func(*rand.Rand) string { return "/api/movies/" + string(cold.ID) + "/similar?n=10" }},
	} {
		b.Run(v.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			for range 50 { // warm the connections and the plans
				get(v.path(r))
			}
			var durs []time.Duration
			for b.Loop() {
				p := v.path(r)
				start := time.Now()
				s := get(p)
				durs = append(durs, time.Since(start))
				if s.Method != v.method || len(s.Items) != 10 {
					b.Fatalf("GET %s: method %s, %d items", p, s.Method, len(s.Items))
				}
			}
			slices.Sort(durs)
			at := func(q float64) float64 {
				return float64(durs[min(len(durs)-1, int(q*float64(len(durs))))].Microseconds())
			}
			b.ReportMetric(at(0.5), "p50-us")
			b.ReportMetric(at(0.99), "p99-us")
		})
	}
}

type similarAnswer struct {
	Method string `json:"method"`
	Items  []struct {
		MovieID string `json:"movie_id"`
	} `json:"items"`
}
