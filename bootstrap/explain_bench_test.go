package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/training"
)

// BenchmarkExplainEndpoint measures the vector tier over HTTP with and
// without explain=true, side by side in one run (requests alternate): a
// node on PostgreSQL + pgvector and Redis, a catalog of 20,000 movies and
// a model of 64 factors on them, 50 users with 100 movies of history
// each, and a cache TTL of 1 ms so that every request is answered by the
// vector tier. One client; p50-us and p99-us of each kind.
//
//	go test -run '^$' -bench ExplainEndpoint -benchtime 4000x -count 3 ./bootstrap/
func BenchmarkExplainEndpoint(b *testing.B) {
	dbURL := envOr("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	redisURL := envOr("MARQUEE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	schema := fmt.Sprintf("marquee_explainbench_%d", rand.Uint32())
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
		"MARQUEE_DEMO": "false", "MARQUEE_CACHE_TTL": "1ms", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_ARCHIVE_EVERY": "off",
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

	const movies, factors, users, history = 20000, 64, 50, 100
	m := &domain.Model{Version: "explain-bench", Factors: factors, Alpha: 1, Lambda: 30, CreatedAt: time.Now()}
	var catalog []domain.Movie
	for i := range movies {
		id := domain.MovieID(fmt.Sprint("m", i))
		m.Movies = append(m.Movies, id)
		catalog = append(catalog, domain.Movie{ID: id, Title: fmt.Sprint("Movie ", i)})
	}
	m.ItemFactors = als.RandomFactors(movies, factors, 1).Data
	for i := 0; i < movies; i += 1000 {
		if err := app.Stores.Catalog.Put(ctx, catalog[i:i+1000]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := app.Stores.Models.Save(ctx, m); err != nil {
		b.Fatal(err)
	}
	if _, err := (training.Promoter{Models: app.Stores.Models, Vectors: app.Stores.Vectors}).Promote(ctx, m.Version); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); app.System.ServingModel() != m.Version; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the node did not switch to the benchmark's model")
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var evs []domain.Interaction
	now := time.Now().UTC()
	for u := range users {
		for k := range history {
			evs = append(evs, domain.Interaction{EventID: fmt.Sprintf("xb-%d-%d", u, k), UserID: domain.UserID(fmt.Sprint("xu", u)),
				MovieID: m.Movies[r.IntN(movies)], Type: domain.EventLike, Weight: 4, Time: now, IngestedAt: now})
		}
	}
	if err := app.System.Apply(ctx, evs); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	get := func(u int, explain bool) (string, int) {
		resp, err := client.Get(fmt.Sprintf("%s/api/recommendations?user_id=xu%d&n=10&explain=%v", app.URL(), u, explain))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Tier  string `json:"tier"`
			Items []struct {
				Because []json.RawMessage `json:"because"`
			} `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Items) == 0 {
			b.Fatalf("%d %v", resp.StatusCode, err)
		}
		return out.Tier, len(out.Items[0].Because)
	}
	for u := range users { // warm: every actor loaded and folded in
		get(u, false)
	}
	var plain, explained []time.Duration
	missed := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		explain := i%2 == 1
		time.Sleep(2 * time.Millisecond) // past the cache TTL
		start := time.Now()
		tier, reasons := get(i/2%users, explain)
		d := time.Since(start)
		if tier != string(domain.TierVector) || explain && reasons == 0 {
			missed++
			continue
		}
		if explain {
			explained = append(explained, d)
		} else {
			plain = append(plain, d)
		}
	}
	b.StopTimer()
	at := func(ds []time.Duration, q float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds())
	}
	b.ReportMetric(at(plain, 0.5), "plain-p50-us")
	b.ReportMetric(at(plain, 0.99), "plain-p99-us")
	b.ReportMetric(at(explained, 0.5), "explain-p50-us")
	b.ReportMetric(at(explained, 0.99), "explain-p99-us")
	b.ReportMetric(float64(missed), "not-vector")
}
