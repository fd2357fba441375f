package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.InteractionLog = (*InteractionLog)(nil)

// InteractionLog is the hot table rt_user_interactions. Duplicates are
// refused by the primary key on event_id, so Append is idempotent even
// when several nodes append the same redelivered event at once.
type InteractionLog struct {
	pool *pgxpool.Pool
}

const interactionColumns = "event_id, user_id, movie_id, event_type, value, weight, ts, rec_log_id, ingested_at"

// scanBatch is how many rows Scan fetches from its cursor at a time.
const scanBatch = 5000

// Append implements ports.InteractionLog.
func (l *InteractionLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	var recLogID *string
	if ev.RecLogID != "" {
		recLogID = &ev.RecLogID
	}
	tag, err := l.pool.Exec(ctx, `
		INSERT INTO rt_user_interactions (`+interactionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (event_id) DO NOTHING`,
		ev.EventID, string(ev.UserID), string(ev.MovieID), string(ev.Type), ev.Value, ev.Weight,
		ev.Time, recLogID, ev.IngestedAt)
	if err != nil {
		return false, wrap("append interaction", err)
	}
	return tag.RowsAffected() == 1, nil
}

// UserHistory implements ports.InteractionLog; events with equal times
// keep their insertion order.
func (l *InteractionLog) UserHistory(ctx context.Context, user domain.UserID) ([]domain.Interaction, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+interactionColumns+` FROM rt_user_interactions
		WHERE user_id = $1 ORDER BY ts, seq`, string(user))
	if err != nil {
		return nil, wrap("user history", err)
	}
	h, err := pgx.CollectRows(rows, scanInteraction)
	if err != nil {
		return nil, wrap("user history", err)
	}
	return h, nil
}

// Scan implements ports.InteractionLog. It reads one snapshot of the table
// through a server-side cursor, scanBatch rows at a time, so memory stays
// flat at any table size and an error from fn stops the scan without
// draining the rest. fn may use the log (or other ports) meanwhile: the
// cursor holds one pooled connection.
func (l *InteractionLog) Scan(ctx context.Context, fn func(domain.Interaction) error) error {
	var fnErr error
	err := pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DECLARE interaction_scan NO SCROLL CURSOR FOR
			SELECT `+interactionColumns+` FROM rt_user_interactions`); err != nil {
			return err
		}
		for {
			rows, err := tx.Query(ctx, fmt.Sprintf("FETCH FORWARD %d FROM interaction_scan", scanBatch))
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				n++
				ev, err := scanInteraction(rows)
				if err != nil {
					rows.Close()
					return err
				}
				if err := fn(ev); err != nil {
					rows.Close()
					fnErr = err
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n < scanBatch {
				return nil
			}
		}
	})
	if fnErr != nil {
		return fnErr
	}
	return wrap("scan interactions", err)
}

func scanInteraction(row pgx.CollectableRow) (domain.Interaction, error) {
	var ev domain.Interaction
	var user, movie, typ string
	var recLogID *string
	var ts, ingested time.Time
	err := row.Scan(&ev.EventID, &user, &movie, &typ, &ev.Value, &ev.Weight, &ts, &recLogID, &ingested)
	if err != nil {
		return ev, err
	}
	ev.UserID, ev.MovieID, ev.Type = domain.UserID(user), domain.MovieID(movie), domain.EventType(typ)
	ev.Time, ev.IngestedAt = ts.UTC(), ingested.UTC()
	if recLogID != nil {
		ev.RecLogID = *recLogID
	}
	return ev, nil
}
