package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.AnalyticsSink = (*Analytics)(nil)

// Analytics stores served lists in recommendation_logs and attributed
// feedback in recommendation_feedback. Each call is one statement however
// many rows it carries (the rows travel as parallel arrays), so the
// analytics actor can flush a backlog in one round trip.
type Analytics struct {
	pool *pgxpool.Pool
}

// LogServed implements ports.AnalyticsSink. A repeated rec_log_id replaces
// the earlier list, as in the in-memory sink. Latency is kept to the
// microsecond.
//
// The lists are streamed with COPY straight into the table: at saturation
// the node serves ~16K lists/s and PostgreSQL writes them on the cores
// that serve, and COPY of a batch takes about two thirds of the time of
// an INSERT … ON CONFLICT of the same rows (BenchmarkLogServed). Each
// list's movies travel as three binary arrays, which PostgreSQL stores
// without parsing anything (migration 00007). The rec_log_ids are new
// UUIDs, so the COPY nearly always goes through; a batch with one logged
// before fails as a whole (one statement) and is written again by upsert.
func (a *Analytics) LogServed(ctx context.Context, lists ...domain.Served) error {
	if len(lists) == 0 {
		return nil
	}
	lists = lastByKey(lists, func(s domain.Served) string { return s.RecLogID })
	items := splitServedItems(lists)
	_, err := a.pool.CopyFrom(ctx, pgx.Identifier{"recommendation_logs"}, servedColumns, servedRows(lists, items))
	if isCode(err, "23505") { // unique_violation: a list logged again
		err = a.upsertServed(ctx, lists, items)
	}
	return wrap("log served", err)
}

// servedColumns are recommendation_logs' columns, in servedRows' order.
var servedColumns = []string{"rec_log_id", "user_id", "served_by", "source_tier", "model_version", "generated_at",
	"movie_ids", "scores", "titles", "latency", "served_at", "requested"}

// servedRows streams lists as rows of servedColumns.
func servedRows(lists []domain.Served, items []servedItems) pgx.CopyFromSource {
	i, row := 0, make([]any, len(servedColumns)) // CopyFrom encodes each row before asking for the next
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(lists) {
			return nil, nil
		}
		s, it := lists[i], items[i]
		row[0], row[1], row[2], row[3], row[4] = s.RecLogID, string(s.UserID), string(s.ServedBy), string(s.List.Tier), s.List.ModelVersion
		row[5], row[6], row[7], row[8] = s.List.GeneratedAt, it.ids, it.scores, it.titles
		row[9], row[10], row[11] = pgtype.Interval{Microseconds: s.Latency.Microseconds(), Valid: true}, s.ServedAt, int32(s.Requested)
		i++
		return row, nil
	})
}

// upsertServed writes lists, replacing those logged before: COPY into a
// temporary table of servedColumns, then one upsert from it.
func (a *Analytics) upsertServed(ctx context.Context, lists []domain.Served, items []servedItems) error {
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE served_upsert ON COMMIT DROP AS
			SELECT `+servedColumnList+` FROM recommendation_logs WITH NO DATA`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"served_upsert"}, servedColumns, servedRows(lists, items)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO recommendation_logs (`+servedColumnList+`) SELECT `+servedColumnList+` FROM served_upsert
			ON CONFLICT (rec_log_id) DO UPDATE SET `+servedUpdates)
		return err
	})
}

// servedColumnList and servedUpdates are servedColumns as a column list and as
// the SET list of an upsert on rec_log_id.
var servedColumnList, servedUpdates = func() (string, string) {
	sets := make([]string, 0, len(servedColumns)-1)
	for _, c := range servedColumns[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	return strings.Join(servedColumns, ", "), strings.Join(sets, ", ")
}()

// ServedList implements ports.AnalyticsSink.
func (a *Analytics) ServedList(ctx context.Context, recLogID string) (domain.Served, error) {
	var s domain.Served
	var user, servedBy, tier string
	var it servedItems
	var latency pgtype.Interval
	err := a.pool.QueryRow(ctx, `
		SELECT user_id, served_by, source_tier, model_version, generated_at, movie_ids, scores, titles, latency, served_at, requested
		FROM recommendation_logs WHERE rec_log_id = $1`, recLogID).
		Scan(&user, &servedBy, &tier, &s.List.ModelVersion, &s.List.GeneratedAt, &it.ids, &it.scores, &it.titles, &latency,
			&s.ServedAt, &s.Requested)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("served list %s: %w", recLogID, ports.ErrNotFound)
	}
	if err != nil {
		return s, wrap("served list", err)
	}
	if len(it.scores) != len(it.ids) || len(it.titles) != len(it.ids) {
		return s, fmt.Errorf("postgres: served list %s: %d movies, %d scores, %d titles", recLogID, len(it.ids), len(it.scores), len(it.titles))
	}
	s.RecLogID, s.UserID, s.ServedBy = recLogID, domain.UserID(user), domain.Tier(servedBy)
	s.List.Tier = domain.Tier(tier)
	s.List.GeneratedAt, s.ServedAt = s.List.GeneratedAt.UTC(), s.ServedAt.UTC()
	s.Latency = time.Duration(latency.Microseconds)*time.Microsecond +
		time.Duration(latency.Days)*24*time.Hour + time.Duration(latency.Months)*30*24*time.Hour
	s.List.Items = make([]domain.ScoredMovie, len(it.ids))
	for i, id := range it.ids {
		s.List.Items[i] = domain.ScoredMovie{MovieID: domain.MovieID(id), Score: it.scores[i], Title: it.titles[i]}
	}
	return s, nil
}

// RecordFeedback implements ports.AnalyticsSink; an event_id already
// stored (or repeated within fb) is ignored.
func (a *Analytics) RecordFeedback(ctx context.Context, fb ...domain.Feedback) error {
	if len(fb) == 0 {
		return nil
	}
	n := len(fb)
	events, recLogs, users, movies, types, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ts := make([]time.Time, n)
	positions := make([]int32, n)
	for i, f := range fb {
		events[i], recLogs[i], users[i], movies[i] = f.EventID, f.RecLogID, string(f.UserID), string(f.MovieID)
		types[i], tiers[i], ts[i], positions[i] = string(f.Type), string(f.Tier), f.Time, int32(f.Position)
	}
	_, err := a.pool.Exec(ctx, `
		INSERT INTO recommendation_feedback (event_id, rec_log_id, user_id, movie_id, event_type, ts, tier, position)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::integer[])
		ON CONFLICT (event_id) DO NOTHING`,
		events, recLogs, users, movies, types, ts, tiers, positions)
	return wrap("record feedback", err)
}

// FeedbackCount returns how much feedback is stored for a served list.
func (a *Analytics) FeedbackCount(ctx context.Context, recLogID string) (int, error) {
	var n int
	err := a.pool.QueryRow(ctx, `SELECT count(*) FROM recommendation_feedback WHERE rec_log_id = $1`, recLogID).Scan(&n)
	return n, wrap("feedback count", err)
}
