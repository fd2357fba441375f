package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// The deletions of every PostgreSQL store (the right to be forgotten).

// DeleteUser implements ports.InteractionLog.
func (l *InteractionLog) DeleteUser(ctx context.Context, user domain.UserID) ([]string, error) {
	rows, err := l.pool.Query(ctx, `DELETE FROM rt_user_interactions WHERE user_id = $1 RETURNING event_id`, string(user))
	if err != nil {
		return nil, wrap("delete user interactions", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("delete user interactions", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// DeleteEvent implements ports.InteractionLog.
func (l *InteractionLog) DeleteEvent(ctx context.Context, user domain.UserID, eventID string) (bool, error) {
	tag, err := l.pool.Exec(ctx, `DELETE FROM rt_user_interactions WHERE event_id = $1 AND user_id = $2`, eventID, string(user))
	if err != nil {
		return false, wrap("delete interaction", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Replace implements ports.ArchiveLedger in one transaction.
func (l *InteractionLog) Replace(ctx context.Context, old string, rewrite ports.ArchiveFile, removed []domain.Interaction) error {
	conflict := false
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM archive_manifest WHERE key = $1`, old)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			conflict = true
			return errors.New("rollback")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO archive_retired (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, old); err != nil {
			return err
		}
		if rewrite.Key != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO archive_manifest (key, day, rows, bytes, min_ts, max_ts, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				rewrite.Key, rewrite.Day.UTC().Format(time.DateOnly), rewrite.Rows, rewrite.Bytes, rewrite.MinTime, rewrite.MaxTime, rewrite.CreatedAt); err != nil {
				return err
			}
		}
		if len(removed) == 0 {
			return nil
		}
		users, movies, weights := make([]string, len(removed)), make([]string, len(removed)), make([]float64, len(removed))
		for i, ev := range removed {
			users[i], movies[i], weights[i] = string(ev.UserID), string(ev.MovieID), ev.Weight
		}
		if _, err := tx.Exec(ctx, `
			UPDATE archived_totals t SET weight = t.weight - r.w, events = t.events - r.n
			FROM (SELECT u, m, sum(w) AS w, count(*) AS n FROM unnest($1::text[], $2::text[], $3::double precision[]) AS x(u, m, w) GROUP BY u, m) r
			WHERE t.user_id = r.u AND t.movie_id = r.m`, users, movies, weights); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM archived_totals WHERE events <= 0 AND (user_id, movie_id) IN
			(SELECT * FROM unnest($1::text[], $2::text[]))`, users, movies)
		return err
	})
	if conflict {
		return fmt.Errorf("postgres: replace %s: not in the manifest: %w", old, ports.ErrConflict)
	}
	return wrap("replace "+old, err)
}

// Retired implements ports.ArchiveLedger.
func (l *InteractionLog) Retired(ctx context.Context) ([]string, error) {
	rows, err := l.pool.Query(ctx, `SELECT key FROM archive_retired ORDER BY key`)
	if err != nil {
		return nil, wrap("retired archive files", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return keys, wrap("retired archive files", err)
}

// Purged implements ports.ArchiveLedger.
func (l *InteractionLog) Purged(ctx context.Context, key string) error {
	_, err := l.pool.Exec(ctx, `DELETE FROM archive_retired WHERE key = $1`, key)
	return wrap("purged archive file", err)
}

// ForgetTotals implements ports.ArchiveLedger.
func (l *InteractionLog) ForgetTotals(ctx context.Context, user domain.UserID) error {
	_, err := l.pool.Exec(ctx, `DELETE FROM archived_totals WHERE user_id = $1`, string(user))
	return wrap("forget archived totals", err)
}

// Delete implements ports.ProfileStore.
func (s *ProfileStore) Delete(ctx context.Context, user domain.UserID) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM user_profiles WHERE user_id = $1`, string(user))
	return wrap("profile delete", err)
}

// Delete implements ports.BatchStore.
func (s *BatchStore) Delete(ctx context.Context, user domain.UserID) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM batch_recommendations WHERE user_id = $1`, string(user))
	return wrap("batch delete", err)
}

// ForgetUser implements ports.AnalyticsSink in one transaction.
func (a *Analytics) ForgetUser(ctx context.Context, user domain.UserID, eventIDs []string) error {
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM recommendation_logs WHERE user_id = $1`, string(user)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recommendation_feedback WHERE user_id = $1 OR event_id = ANY($2::text[])`, string(user), eventIDs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM freshness_samples WHERE user_id = $1 OR event_id = ANY($2::text[])`, string(user), eventIDs)
		return err
	})
	return wrap("forget user analytics", err)
}

// ForgetEvents implements ports.AnalyticsSink.
func (a *Analytics) ForgetEvents(ctx context.Context, eventIDs []string) error {
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM recommendation_feedback WHERE event_id = ANY($1::text[])`, eventIDs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM freshness_samples WHERE event_id = ANY($1::text[])`, eventIDs)
		return err
	})
	return wrap("forget event analytics", err)
}

var _ ports.Tombstones = (*Tombstones)(nil)

// Tombstones keeps the deleted users in table user_tombstones, by digest.
type Tombstones struct {
	pool *pgxpool.Pool
}

// Bury implements ports.Tombstones.
func (s *Tombstones) Bury(ctx context.Context, user domain.UserID, at time.Time) (time.Time, error) {
	var kept time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO user_tombstones AS t (user_digest, buried_at) VALUES ($1, $2)
		ON CONFLICT (user_digest) DO UPDATE SET buried_at = greatest(t.buried_at, excluded.buried_at), done = false
		RETURNING buried_at`, domain.UserDigest(user), at).Scan(&kept)
	return kept.UTC(), wrap("bury user", err)
}

// Buried implements ports.Tombstones.
func (s *Tombstones) Buried(ctx context.Context, user domain.UserID) (time.Time, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT buried_at FROM user_tombstones WHERE user_digest = $1`, domain.UserDigest(user)).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("tombstone of %s: %w", user, ports.ErrNotFound)
	}
	return at.UTC(), wrap("tombstone", err)
}

// All implements ports.Tombstones.
func (s *Tombstones) All(ctx context.Context) (domain.Graves, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_digest, buried_at FROM user_tombstones`)
	if err != nil {
		return nil, wrap("tombstones", err)
	}
	out := domain.Graves{}
	var digest string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&digest, &at}, func() error {
		out[digest] = at.UTC()
		return nil
	})
	return out, wrap("tombstones", err)
}

// Done implements ports.Tombstones.
func (s *Tombstones) Done(ctx context.Context, user domain.UserID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE user_tombstones SET done = true WHERE user_digest = $1 AND buried_at = $2`, domain.UserDigest(user), at)
	return wrap("tombstone done", err)
}

// Prune implements ports.Tombstones.
func (s *Tombstones) Prune(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM user_tombstones WHERE done AND buried_at < $1`, before)
	if err != nil {
		return 0, wrap("prune tombstones", err)
	}
	return int(tag.RowsAffected()), nil
}
