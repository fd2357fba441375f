package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockID is the advisory lock ("MARQUEE1") that serializes schema
// changes across every node and schema of a database. It is database-wide
// rather than per schema because CREATE EXTENSION is database-wide too.
const migrateLockID int64 = 0x4d41525155454531

// Migrate applies pending migrations to the schema the pool's search_path
// names first, creating the schema if needed. Concurrent callers, on one
// node or many, take turns on an advisory lock, and a call with nothing to
// do changes nothing, so every node may run it at start. Of opts only the
// logger matters. A pool opened before the vector extension existed should
// be Reset afterwards, so that new connections learn the vector type
// (Open migrates first, on a connection of its own, then opens its pool).
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	cfg, err := newConfig(opts)
	if err != nil {
		return err
	}
	return migrate(ctx, pool, cfg)
}

func migrate(ctx context.Context, pool *pgxpool.Pool, cfg config) error {
	if err := ensureSchema(ctx, pool); err != nil {
		return err
	}
	provider, closeDB, err := newMigrationProvider(pool, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	results, err := provider.Up(ctx)
	if err != nil {
		return migrationError(err)
	}
	for _, r := range results {
		cfg.logger.Info("postgres: migration applied", "version", r.Source.Version,
			"file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// newMigrationProvider is goose over the embedded migrations, on pool (the
// pool stays open when closeDB is called).
func newMigrationProvider(pool *pgxpool.Pool, cfg config) (provider *goose.Provider, closeDB func(), err error) {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	provider, err = goose.NewProvider(goose.DialectPostgres, sqlDB, migrations,
		goose.WithSessionLocker(advisoryLocker{}),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(cfg.logger))
	if err != nil {
		_ = sqlDB.Close()
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return provider, func() { _ = sqlDB.Close() }, nil
}

// ensureSchema creates the first schema of the search_path if missing.
// Two nodes creating it at once would collide on its name, hence the lock.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var path string
	if err := pool.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil {
		return wrap("migrate: read search_path", err)
	}
	schema := firstSchema(path)
	if schema == "" {
		return nil // "$user" first: the server picks the schema, as it always has
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockID); err != nil {
			return err
		}
		// Look first: CREATE SCHEMA needs the CREATE privilege on the
		// database even when the schema exists.
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil || exists {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
		return err
	})
	return wrap("migrate: create schema "+schema, err)
}

// firstSchema returns the first entry of a search_path setting, unquoted,
// or "" when it is "$user".
func firstSchema(path string) string {
	path = strings.TrimSpace(path)
	var name string
	if strings.HasPrefix(path, `"`) {
		var b strings.Builder
		for i := 1; i < len(path); i++ {
			if path[i] == '"' {
				if i+1 < len(path) && path[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			b.WriteByte(path[i])
		}
		name = b.String()
	} else {
		name, _, _ = strings.Cut(path, ",")
		name = strings.TrimSpace(name)
	}
	if name == "$user" {
		return ""
	}
	return name
}

// migrationError explains the errors an operator can fix.
func migrationError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.Contains(pgErr.Message, "vector") {
		switch pgErr.Code {
		case "58P01", "0A000": // no control file (PostgreSQL 15) / not available (16+)
			return fmt.Errorf("postgres: migrate: %w (install it: deploy/local/postgres.sh builds it for PostgreSQL 15 on Debian 12): %w",
				ErrNoVector, err)
		case "42501":
			return fmt.Errorf("postgres: migrate: %w to this role (a superuser must run CREATE EXTENSION vector SCHEMA public once): %w",
				ErrNoVector, err)
		}
	}
	return wrap("migrate", err)
}

// advisoryLocker is goose's session lock as a blocking pg_advisory_lock:
// a node waits exactly as long as another one migrates, instead of
// polling every few seconds as goose's own locker does.
type advisoryLocker struct{}

var _ lock.SessionLocker = advisoryLocker{}

// SessionLock implements lock.SessionLocker.
func (advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockID)
	return err
}

// SessionUnlock implements lock.SessionLocker.
func (advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", migrateLockID).Scan(&released); err != nil {
		return err
	}
	if !released {
		return errors.New("migration lock was not held")
	}
	return nil
}
