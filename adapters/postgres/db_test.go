package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// migrationState returns how many migrations the schema's goose table
// records as applied and how many tables the schema holds.
func migrationState(t *testing.T, db *postgres.DB) (applied, tables int) {
	t.Helper()
	ctx := testCtx(t)
	must(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&applied))
	must(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, db.Schema()).Scan(&tables))
	return applied, tables
}

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	applied, tables := migrationState(t, db)
	if applied == 0 || tables < 10 {
		t.Fatalf("after Open on an empty schema: %d migrations applied, %d tables", applied, tables)
	}
	for range 2 {
		must(t, postgres.Migrate(testCtx(t), db.Pool()))
	}
	again := openSchema(t, db.Schema()) // a restarted node
	a2, t2 := migrationState(t, again)
	if a2 != applied || t2 != tables {
		t.Fatalf("re-running migrations changed the schema: %d/%d migrations, %d/%d tables", a2, applied, t2, tables)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	schema := newSchemaName()
	dbs := make([]*postgres.DB, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dbs[i], errs[i] = postgres.Open(ctx, testURL(), postgres.WithSchema(schema))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			skipUnlessCI(t, err)
			t.Fatalf("node %d: Open: %v", i, err)
		}
		t.Cleanup(dbs[i].Close)
	}
	t.Cleanup(func() { dropSchema(t, dbs[0], schema) })
	applied, _ := migrationState(t, dbs[0])
	var rows int
	must(t, dbs[0].Pool().QueryRow(testCtx(t), `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&rows))
	if rows != applied {
		t.Fatalf("%d version rows for %d migrations: a migration ran twice", rows, applied)
	}
	// Every node works against the one schema.
	for i, db := range dbs {
		_, err := db.Interactions().Append(testCtx(t), domain.Interaction{EventID: "e", UserID: "u", MovieID: "m",
			Type: domain.EventView, Weight: 1, Time: time.Now(), IngestedAt: time.Now()})
		must(t, err)
		if n, err := db.Catalog().Count(testCtx(t)); err != nil || n != 0 {
			t.Fatalf("node %d: Count = %d, %v", i, n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("unreachable server: err = %v, want ErrUnavailable", err)
	}
	_, err = postgres.Open(ctx, testURL(), postgres.WithSchema("Not-A-Schema"))
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("bad schema name: err = %v, want ErrInvalid", err)
	}
	_, err = postgres.Open(ctx, "postgres://%zz")
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("bad URL: err = %v, want ErrInvalid", err)
	}
}

func TestStatementTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	db := openTestDB(t, postgres.WithStatementTimeout(50*time.Millisecond))
	ctx := testCtx(t)
	// Hold a row lock so that the upsert waits past the timeout.
	tx, err := db.Pool().Begin(ctx)
	must(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	must(t, db.Popular().Record(ctx, "m", 1, time.Now()))
	_, err = tx.Exec(ctx, `SELECT * FROM popular_movies WHERE movie_id = 'm' FOR UPDATE`)
	must(t, err)
	err = db.Popular().Record(ctx, "m", 1, time.Now())
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("statement past statement_timeout: err = %v, want ErrUnavailable", err)
	}
	// A deadline of the caller counts as unavailability too.
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := db.Catalog().Get(expired, "m"); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("expired context: err = %v, want ErrUnavailable", err)
	}
}
