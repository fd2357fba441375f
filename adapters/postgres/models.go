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

var (
	_ ports.ModelStore       = (*ModelStore)(nil)
	_ ports.PromotionWatcher = (*ModelStore)(nil)
)

// ModelStore is the model registry: metadata in table models, the item
// factors and their movie order in model_factors (one row per model, the
// factor matrix as one real[] in row-major order). A partial unique index
// allows one serving model at most. Every promotion sends a notification
// on channel, delivered to every listening process at the commit.
type ModelStore struct {
	pool    *pgxpool.Pool
	channel string // "marquee.models.<schema>": one per schema
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
		if _, err := tx.Exec(ctx, "UPDATE models SET status = 'serving', promoted_at = now() WHERE version = $1 AND status <> 'serving'", version); err != nil {
			return err
		}
		// Delivered to every listener when (and only if) this commits.
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, version)
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
	return s.one(ctx, "current model", "m.status = 'serving'")
}

// one returns the model, factors included, that where selects.
func (s *ModelStore) one(ctx context.Context, what, where string, args ...any) (*domain.Model, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+`, f.movies, f.item_factors
		FROM models m JOIN model_factors f USING (version) WHERE `+where, args...)
	if err != nil {
		return nil, wrap(what, err)
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
		return nil, fmt.Errorf("%s: %w", what, ports.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(what, err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// ServingVersion implements ports.ModelStore.
func (s *ModelStore) ServingVersion(ctx context.Context) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT version FROM models WHERE status = 'serving'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("serving model: %w", ports.ErrNotFound)
	}
	return v, wrap("serving model", err)
}

// Get implements ports.ModelStore.
func (s *ModelStore) Get(ctx context.Context, version string) (*domain.Model, error) {
	return s.one(ctx, "model "+version, "m.version = $1", version)
}

// Prune implements ports.ModelStore in one transaction, under the lock
// promotions take, so the model it keeps as serving is the serving one.
func (s *ModelStore) Prune(ctx context.Context, keepCandidates int) ([]string, error) {
	var dropped []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			WITH keep AS (
				SELECT version FROM models WHERE status = 'serving'
				UNION ALL
				(SELECT version FROM models WHERE status = 'retired' ORDER BY promoted_at DESC NULLS LAST LIMIT 1)
				UNION ALL
				(SELECT version FROM models WHERE status = 'candidate' ORDER BY seq DESC LIMIT $1))
			DELETE FROM models WHERE version NOT IN (SELECT version FROM keep) RETURNING version`, max(0, keepCandidates))
		if err != nil {
			return err
		}
		dropped, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return dropped, wrap("prune models", err)
}

// WatchPromotions implements ports.PromotionWatcher with LISTEN on a
// connection taken out of the pool for as long as the watch lasts.
func (s *ModelStore) WatchPromotions(ctx context.Context, fn func()) error {
	return listen(ctx, s.pool, s.channel, fn)
}

// listen calls fn for every notification on channel until ctx ends, on a
// connection taken out of the pool (LISTEN belongs to it).
func listen(ctx context.Context, pool *pgxpool.Pool, channel string, fn func()) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return wrap("listen", err)
	}
	conn := pc.Hijack() // LISTEN belongs to this connection: it must not go back to the pool
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return wrap("listen", err)
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return wrap("listen", err)
		}
		fn()
	}
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
