package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var (
	_ ports.InteractionLog = (*InteractionLog)(nil)
	_ ports.EventLookup    = (*InteractionLog)(nil)
)

// InteractionLog is the hot table rt_user_interactions. Duplicates are
// refused by the primary key on event_id, so Append is idempotent even
// when several nodes append the same redelivered event at once.
//
// Appends are group-committed: the events of concurrent Append and
// AppendBatch calls are inserted by one statement (see groupCommit).
type InteractionLog struct {
	pool    *pgxpool.Pool
	appends *groupCommit[[]domain.Interaction, []bool]
}

func newInteractionLog(pool *pgxpool.Pool, flushers int) *InteractionLog {
	l := &InteractionLog{pool: pool}
	l.appends = newGroupCommit(flushers, groupLimit, l.appendGroup)
	return l
}

const interactionColumns = "event_id, user_id, movie_id, event_type, value, weight, ts, rec_log_id, ingested_at"

// scanBatch is how many rows Scan fetches from its cursor at a time.
const scanBatch = 5000

// Append implements ports.InteractionLog.
func (l *InteractionLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	inserted, err := l.appends.do(ctx, []domain.Interaction{ev})
	if err != nil {
		return false, err
	}
	return inserted[0], nil
}

// AppendBatch implements ports.BatchAppender: it reports, for each event,
// whether it was new; an event whose id is already stored, or repeated
// earlier in evs, was not inserted. Rows are inserted in the order of evs.
// User actors store a consumed message's events with it.
func (l *InteractionLog) AppendBatch(ctx context.Context, evs []domain.Interaction) ([]bool, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	return l.appends.do(ctx, evs)
}

// appendGroup stores the events of several calls with one statement and
// splits the answer between them; as one call, they would be stored in
// the same order with the same results.
func (l *InteractionLog) appendGroup(ctx context.Context, calls [][]domain.Interaction) ([][]bool, error) {
	all := calls[0]
	if len(calls) > 1 {
		all = slices.Concat(calls...)
	}
	var inserted []bool
	if len(all) == 1 {
		ins, err := l.appendOne(ctx, all[0])
		if err != nil {
			return nil, err
		}
		inserted = []bool{ins}
	} else {
		var err error
		if inserted, err = l.appendMany(ctx, all); err != nil {
			return nil, err
		}
	}
	out := make([][]bool, len(calls))
	for i, c := range calls {
		out[i], inserted = inserted[:len(c):len(c)], inserted[len(c):]
	}
	return out, nil
}

func (l *InteractionLog) appendOne(ctx context.Context, ev domain.Interaction) (bool, error) {
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

// appendMany stores events with one statement (one round trip and one
// commit, whatever their number) and reports which were new.
func (l *InteractionLog) appendMany(ctx context.Context, evs []domain.Interaction) ([]bool, error) {
	n := len(evs)
	ids, users, movies, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	values, recLogIDs := make([]*float64, n), make([]*string, n)
	weights, ts, ingested := make([]float64, n), make([]time.Time, n), make([]time.Time, n)
	for i := range evs {
		ev := &evs[i]
		ids[i], users[i], movies[i], types[i] = ev.EventID, string(ev.UserID), string(ev.MovieID), string(ev.Type)
		values[i], weights[i], ts[i], ingested[i] = ev.Value, ev.Weight, ev.Time, ev.IngestedAt
		if ev.RecLogID != "" {
			recLogIDs[i] = &ev.RecLogID
		}
	}
	rows, err := l.pool.Query(ctx, `
		INSERT INTO rt_user_interactions (`+interactionColumns+`)
		SELECT e.event_id, e.user_id, e.movie_id, e.event_type, e.value, e.weight, e.ts, e.rec_log_id, e.ingested_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::double precision[], $6::double precision[],
			$7::timestamptz[], $8::text[], $9::timestamptz[])
			WITH ORDINALITY AS e(event_id, user_id, movie_id, event_type, value, weight, ts, rec_log_id, ingested_at, ord)
		ORDER BY e.ord
		ON CONFLICT (event_id) DO NOTHING
		RETURNING event_id`,
		ids, users, movies, types, values, weights, ts, recLogIDs, ingested)
	if err != nil {
		return nil, wrap("append interactions", err)
	}
	new := make(map[string]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap("append interactions", err)
		}
		new[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("append interactions", err)
	}
	out := make([]bool, n)
	for i, id := range ids {
		out[i] = new[id]
		delete(new, id) // a repeated id was inserted once, for its first occurrence
	}
	return out, nil
}

// Lookup implements ports.EventLookup with one query through the primary
// key on event_id (= ANY of one array parameter).
func (l *InteractionLog) Lookup(ctx context.Context, ids []string) (map[string]domain.Interaction, error) {
	out := make(map[string]domain.Interaction, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := l.pool.Query(ctx, `SELECT `+interactionColumns+` FROM rt_user_interactions
		WHERE event_id = ANY($1::text[])`, ids)
	if err != nil {
		return nil, wrap("look up events", err)
	}
	found, err := pgx.CollectRows(rows, scanInteraction)
	if err != nil {
		return nil, wrap("look up events", err)
	}
	for _, ev := range found {
		out[ev.EventID] = ev
	}
	return out, nil
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

var _ ports.ArchiveLedger = (*InteractionLog)(nil)

// Pending implements ports.ArchiveLedger: the oldest event before the
// cutoff names the day (one probe of the ts index), then one range scan of
// that day up to the cutoff, in (ts, event_id) order.
func (l *InteractionLog) Pending(ctx context.Context, before time.Time, limit int) ([]domain.Interaction, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: pending: limit %d: %w", limit, domain.ErrInvalid)
	}
	var oldest *time.Time
	err := l.pool.QueryRow(ctx, `SELECT min(ts) FROM rt_user_interactions WHERE ts < $1`, before).Scan(&oldest)
	if err != nil {
		return nil, wrap("pending: oldest event", err)
	}
	if oldest == nil {
		return []domain.Interaction{}, nil
	}
	day := oldest.UTC().Truncate(24 * time.Hour)
	end := day.Add(24 * time.Hour)
	if before.Before(end) {
		end = before
	}
	rows, err := l.pool.Query(ctx, `SELECT `+interactionColumns+` FROM rt_user_interactions
		WHERE ts >= $1 AND ts < $2 ORDER BY ts, event_id LIMIT $3`, day, end, limit)
	if err != nil {
		return nil, wrap("pending", err)
	}
	out, err := pgx.CollectRows(rows, scanInteraction)
	if err != nil {
		return nil, wrap("pending", err)
	}
	return out, nil
}

// Commit implements ports.ArchiveLedger in one transaction: the manifest
// row first (a key already there means an earlier attempt committed, and
// nothing is done), then one DELETE of the ids through the primary key
// (= ANY of one array parameter: a single round trip for 100K ids). If it
// deletes fewer rows than named, another archiver got there first: the
// transaction rolls back and the error wraps ports.ErrConflict.
func (l *InteractionLog) Commit(ctx context.Context, f ports.ArchiveFile, eventIDs []string) error {
	if f.Key == "" {
		return fmt.Errorf("postgres: commit: file without a key: %w", domain.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO archive_manifest (key, day, rows, bytes, min_ts, max_ts, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
			f.Key, f.Day.UTC().Format(time.DateOnly), f.Rows, f.Bytes, f.MinTime, f.MaxTime, f.CreatedAt)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		// The totals first, from the rows about to go; a conflict below
		// rolls them back with everything else.
		if _, err := tx.Exec(ctx, `
			INSERT INTO archived_totals (user_id, movie_id, weight, events, last_ts)
			SELECT user_id, movie_id, sum(weight), count(*), max(ts)
			FROM rt_user_interactions WHERE event_id = ANY($1::text[])
			GROUP BY user_id, movie_id
			ON CONFLICT (user_id, movie_id) DO UPDATE SET
				weight = archived_totals.weight + excluded.weight,
				events = archived_totals.events + excluded.events,
				last_ts = greatest(archived_totals.last_ts, excluded.last_ts)`, eventIDs); err != nil {
			return err
		}
		tag, err = tx.Exec(ctx, `DELETE FROM rt_user_interactions WHERE event_id = ANY($1::text[])`, eventIDs)
		if err != nil {
			return err
		}
		if n := tag.RowsAffected(); n != int64(len(eventIDs)) {
			return fmt.Errorf("%d of the %d rows of %s are no longer in the hot table: %w", int64(len(eventIDs))-n, len(eventIDs), f.Key, ports.ErrConflict)
		}
		return nil
	})
	if errors.Is(err, ports.ErrConflict) {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return wrap("commit "+f.Key, err)
}

// ArchivedTotals implements ports.ArchiveLedger.
func (l *InteractionLog) ArchivedTotals(ctx context.Context, user domain.UserID) ([]domain.MovieTotal, error) {
	rows, err := l.pool.Query(ctx, `SELECT movie_id, weight, events, last_ts FROM archived_totals
		WHERE user_id = $1 ORDER BY movie_id`, string(user))
	if err != nil {
		return nil, wrap("archived totals", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.MovieTotal, error) {
		var t domain.MovieTotal
		err := row.Scan(&t.MovieID, &t.Weight, &t.Events, &t.Last)
		t.Last = t.Last.UTC()
		return t, err
	})
	return out, wrap("archived totals", err)
}

// Files implements ports.ArchiveLedger.
func (l *InteractionLog) Files(ctx context.Context) ([]ports.ArchiveFile, error) {
	rows, err := l.pool.Query(ctx, `SELECT key, day, rows, bytes, min_ts, max_ts, created_at
		FROM archive_manifest ORDER BY day, created_at, key`)
	if err != nil {
		return nil, wrap("archive files", err)
	}
	files, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.ArchiveFile, error) {
		var f ports.ArchiveFile
		err := row.Scan(&f.Key, &f.Day, &f.Rows, &f.Bytes, &f.MinTime, &f.MaxTime, &f.CreatedAt)
		f.Day, f.MinTime, f.MaxTime, f.CreatedAt = f.Day.UTC(), f.MinTime.UTC(), f.MaxTime.UTC(), f.CreatedAt.UTC()
		return f, err
	})
	if err != nil {
		return nil, wrap("archive files", err)
	}
	return files, nil
}
