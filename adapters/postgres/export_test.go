package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateTo moves the schema of pool's search_path to version, up or down,
// for the tests of one migration's conversion of the rows before it.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	provider, closeDB, err := newMigrationProvider(pool, defaultConfig())
	if err != nil {
		return err
	}
	defer closeDB()
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if version < current {
		_, err = provider.DownTo(ctx, version)
	} else {
		_, err = provider.UpTo(ctx, version)
	}
	return err
}
