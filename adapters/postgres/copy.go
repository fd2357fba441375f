package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// copySpec describes a bulk upsert: rows are streamed with COPY (binary)
// into pg_temp.copy_<table>, a temporary twin of table, and then merged by
// upsert, one statement, so that readers see all of the new rows or none.
type copySpec struct {
	table   string
	columns []string
	rows    int
	row     func(i int) ([]any, error)
	upsert  string
}

// copyUpsert runs spec in one transaction.
func copyUpsert(ctx context.Context, pool *pgxpool.Pool, spec copySpec) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		tmp := "copy_" + spec.table
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE "+tmp+" (LIKE "+spec.table+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
			return err
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == spec.rows {
				return nil, nil
			}
			i++
			return spec.row(i - 1)
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", tmp}, spec.columns, src); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, spec.upsert)
		return err
	})
}
