package postgres_test

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// defaultTestURL is the database deploy/local/postgres.sh prepares.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func testURL() string {
	if u := os.Getenv("MARQUEE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// newSchemaName returns a schema name no other run uses.
func newSchemaName() string {
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	return "marquee_test_" + hex.EncodeToString(b[:])
}

// openTestDB opens a migrated database in a schema of its own, dropped
// when the test ends. Without a reachable PostgreSQL with pgvector the
// test is skipped, or fails under CI=true.
func openTestDB(tb testing.TB, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	schema := newSchemaName()
	db := openSchema(tb, schema, opts...)
	tb.Cleanup(func() { dropSchema(tb, db, schema) })
	return db
}

// openSchema opens schema (creating it) and closes the DB at cleanup.
func openSchema(tb testing.TB, schema string, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, testURL(), append(opts, postgres.WithSchema(schema))...)
	if err != nil {
		skipUnlessCI(tb, err)
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// skipUnlessCI skips (or, under CI=true, fails) a test whose database is
// missing; other errors are left to the caller.
func skipUnlessCI(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, ports.ErrUnavailable) && !errors.Is(err, postgres.ErrNoVector) {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL with pgvector is required under CI=true: %v", err)
	}
	tb.Skipf("PostgreSQL with pgvector unavailable at %s (run deploy/local/postgres.sh as root, or set MARQUEE_TEST_DATABASE_URL): %v", testURL(), err)
}

func dropSchema(tb testing.TB, db *postgres.DB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.Pool().Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// randomModel is a model of n movies with k standard normal factors.
func randomModel(version string, n, k int, seed uint64) *domain.Model {
	r := rand.New(rand.NewPCG(seed, 7))
	m := &domain.Model{Version: version, Factors: k, Movies: make([]domain.MovieID, n), ItemFactors: make([]float32, n*k)}
	for i := range m.Movies {
		m.Movies[i] = domain.MovieID(fmt.Sprintf("m%05d", i))
	}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(r.NormFloat64())
	}
	return m
}

func randomVec(k int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, k)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// exactTop is the exact answer to Nearest.
func exactTop(m *domain.Model, q []float32, k int, exclude domain.MovieSet) []domain.MovieID {
	type scored struct {
		id  domain.MovieID
		dot float64
	}
	all := make([]scored, 0, len(m.Movies))
	for i, id := range m.Movies {
		if exclude.Has(id) {
			continue
		}
		var dot float64
		for j, x := range m.Row(i) {
			dot += float64(x) * float64(q[j])
		}
		all = append(all, scored{id, dot})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].dot > all[b].dot })
	out := make([]domain.MovieID, 0, k)
	for _, s := range all[:min(k, len(all))] {
		out = append(out, s.id)
	}
	return out
}

func recall(got []domain.ScoredMovie, want []domain.MovieID) float64 {
	in := map[domain.MovieID]bool{}
	for _, s := range got {
		in[s.MovieID] = true
	}
	hit := 0
	for _, w := range want {
		if in[w] {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

func setOf(ids []domain.MovieID) domain.MovieSet {
	s := make(domain.MovieSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}
