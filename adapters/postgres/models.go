package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ModelStore = (*ModelStore)(nil)

// ModelStore is the model registry: metadata in table models, the item
// factors and their movie order in model_factors (one row per model, the
// factor matrix as one real[] in row-major order). A partial unique index
// allows one serving model at most.
type ModelStore struct {
	pool *pgxpool.Pool
}

const modelColumns = `m.version, m.status, m.created_at, m.factors, m.alpha, m.lambda, m.iterations, m.solver,
	m.users, m.interactions, m.train_seconds, m.metrics, m.validation`

// Save implements ports.ModelStore. Saving a version twice is an error
// wrapping domain.ErrInvalid: a published version is immutable.
func (s *ModelStore) Save(ctx context.Context, m *domain.Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	metrics, err := jsonOrNull(m.Metrics)
	if err != nil {
		return fmt.Errorf("postgres: model %s metrics: %w: %w", m.Version, domain.ErrInvalid, err)
	}
	validation, err := jsonOrNull(m.Validation)
	if err != nil {
		return fmt.Errorf("postgres: model %s validation: %w: %w", m.Version, domain.ErrInvalid, err)
	}
	dup := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO models (version, status, created_at, factors, alpha, lambda, iterations, solver,
				users, interactions, train_seconds, metrics, validation)
			VALUES ($1, 'candidate', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (version) DO NOTHING`,
			m.Version, m.CreatedAt, m.Factors, m.Alpha, m.Lambda, m.Iterations, m.Solver,
			int64(m.Users), int64(m.Interactions), m.TrainSeconds, metrics, validation)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			dup = true
			return nil
		}
		factors := m.ItemFactors
		if factors == nil {
			factors = []float32{} // the column is NOT NULL: no movies, empty matrix
		}
		_, err = tx.Exec(ctx, `INSERT INTO model_factors (version, movies, item_factors) VALUES ($1, $2, $3)`,
			m.Version, movieIDStrings(m.Movies), factors)
		return err
	})
	if err != nil {
		return wrap("save model "+m.Version, err)
	}
	if dup {
		return fmt.Errorf("model %s already saved: %w", m.Version, domain.ErrInvalid)
	}
	return nil
}

// Promote implements ports.ModelStore in one transaction: the model
// serving until now is retired and version serves from the commit on.
// Concurrent promotions take turns on a table lock that readers ignore.
func (s *ModelStore) Promote(ctx context.Context, version string) error {
	found := true
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM models WHERE version = $1)", version).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			found = false
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE models SET status = 'retired' WHERE status = 'serving' AND version <> $1", version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE models SET status = 'serving', promoted_at = now() WHERE version = $1 AND status <> 'serving'", version)
		return err
	})
	if err != nil {
		return wrap("promote model "+version, err)
	}
	if !found {
		return fmt.Errorf("model %s: %w", version, ports.ErrNotFound)
	}
	return nil
}

// Current implements ports.ModelStore.
func (s *ModelStore) Current(ctx context.Context) (*domain.Model, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+`, f.movies, f.item_factors
		FROM models m JOIN model_factors f USING (version) WHERE m.status = 'serving'`)
	if err != nil {
		return nil, wrap("current model", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (*domain.Model, error) {
		var m domain.Model
		var movies []string
		dest := append(modelDest(&m), &movies, &m.ItemFactors)
		if err := row.Scan(dest...); err != nil {
			return nil, err
		}
		m.Movies = make([]domain.MovieID, len(movies))
		for i, id := range movies {
			m.Movies[i] = domain.MovieID(id)
		}
		return &m, nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("current model: %w", ports.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("current model", err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// List implements ports.ModelStore: newest saved first.
func (s *ModelStore) List(ctx context.Context) ([]domain.Model, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+` FROM models m ORDER BY m.seq DESC`)
	if err != nil {
		return nil, wrap("list models", err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Model, error) {
		var m domain.Model
		err := row.Scan(modelDest(&m)...)
		m.CreatedAt = m.CreatedAt.UTC()
		return m, err
	})
	return ms, wrap("list models", err)
}

// modelDest lists the scan targets of modelColumns.
func modelDest(m *domain.Model) []any {
	return []any{&m.Version, &m.Status, &m.CreatedAt, &m.Factors, &m.Alpha, &m.Lambda, &m.Iterations, &m.Solver,
		&m.Users, &m.Interactions, &m.TrainSeconds, &m.Metrics, &m.Validation}
}

// jsonOrNull encodes a metric map as JSON, nil for an empty one.
func jsonOrNull(m map[string]float64) ([]byte, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}
