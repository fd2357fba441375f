package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// servedItem is one entry of recommendation_logs.items.
type servedItem struct {
	Position int     `json:"position"`
	MovieID  string  `json:"movie_id"`
	Score    float64 `json:"score"`
	Title    string  `json:"title,omitempty"`
}

// LogServed implements ports.AnalyticsSink. A repeated rec_log_id replaces
// the earlier list, as in the in-memory sink. Latency is kept to the
// microsecond.
//
// The lists are streamed with COPY straight into the table: at saturation
// the node serves ~16K lists/s and PostgreSQL writes them on the cores
// that serve, and COPY of a batch takes about two thirds of the time of
// an INSERT … ON CONFLICT of the same rows (BenchmarkLogServed). The
// rec_log_ids are new UUIDs, so the COPY nearly always goes through; a
// batch with one logged before fails as a whole (one statement) and is
// written again by upsert.
func (a *Analytics) LogServed(ctx context.Context, lists ...domain.Served) error {
	if len(lists) == 0 {
		return nil
	}
	lists = lastByKey(lists, func(s domain.Served) string { return s.RecLogID })
	items, err := encodeServedItems(lists)
	if err != nil {
		return err
	}
	i, row := 0, make([]any, len(servedColumns)) // CopyFrom encodes each row before asking for the next
	_, err = a.pool.CopyFrom(ctx, pgx.Identifier{"recommendation_logs"}, servedColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(lists) {
			return nil, nil
		}
		s := lists[i]
		row[0], row[1], row[2], row[3], row[4] = s.RecLogID, string(s.UserID), string(s.ServedBy), string(s.List.Tier), s.List.ModelVersion
		row[5], row[6], row[7] = s.List.GeneratedAt, items[i], pgtype.Interval{Microseconds: s.Latency.Microseconds(), Valid: true}
		row[8], row[9] = s.ServedAt, int32(s.Requested)
		i++
		return row, nil
	}))
	if isCode(err, "23505") { // unique_violation: a list logged again
		err = a.upsertServed(ctx, lists, items)
	}
	return wrap("log served", err)
}

// encodeServedItems is the items JSON of each list, in one buffer.
func encodeServedItems(lists []domain.Served) ([][]byte, error) {
	out := make([][]byte, len(lists))
	buf := make([]byte, 0, 128*len(lists))
	for i, s := range lists {
		start := len(buf)
		var err error
		if buf, err = appendServedItems(buf, s.List.Items); err != nil {
			return nil, fmt.Errorf("postgres: log served %s: %w", s.RecLogID, err)
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out, nil
}

// servedColumns are recommendation_logs' columns, in LogServed's order.
var servedColumns = []string{"rec_log_id", "user_id", "served_by", "source_tier", "model_version", "generated_at",
	"items", "latency", "served_at", "requested"}

// upsertServed writes lists, replacing those logged before.
func (a *Analytics) upsertServed(ctx context.Context, lists []domain.Served, items [][]byte) error {
	n := len(lists)
	ids, users, servedBy, tiers, versions := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	generated, servedAt := make([]time.Time, n), make([]time.Time, n)
	js := make([]string, n)
	latency := make([]pgtype.Interval, n)
	requested := make([]int32, n)
	for i, s := range lists {
		ids[i], users[i], servedBy[i] = s.RecLogID, string(s.UserID), string(s.ServedBy)
		tiers[i], versions[i], generated[i] = string(s.List.Tier), s.List.ModelVersion, s.List.GeneratedAt
		js[i] = string(items[i])
		latency[i] = pgtype.Interval{Microseconds: s.Latency.Microseconds(), Valid: true}
		servedAt[i], requested[i] = s.ServedAt, int32(s.Requested)
	}
	_, err := a.pool.Exec(ctx, `
		INSERT INTO recommendation_logs
			(rec_log_id, user_id, served_by, source_tier, model_version, generated_at, items, latency, served_at, requested)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
			$7::jsonb[], $8::interval[], $9::timestamptz[], $10::integer[])
		ON CONFLICT (rec_log_id) DO UPDATE SET
			user_id = excluded.user_id, served_by = excluded.served_by, source_tier = excluded.source_tier,
			model_version = excluded.model_version, generated_at = excluded.generated_at, items = excluded.items,
			latency = excluded.latency, served_at = excluded.served_at, requested = excluded.requested`,
		ids, users, servedBy, tiers, versions, generated, js, latency, servedAt, requested)
	return err
}

// ServedList implements ports.AnalyticsSink.
func (a *Analytics) ServedList(ctx context.Context, recLogID string) (domain.Served, error) {
	var s domain.Served
	var user, servedBy, tier string
	var items []byte
	var latency pgtype.Interval
	err := a.pool.QueryRow(ctx, `
		SELECT user_id, served_by, source_tier, model_version, generated_at, items, latency, served_at, requested
		FROM recommendation_logs WHERE rec_log_id = $1`, recLogID).
		Scan(&user, &servedBy, &tier, &s.List.ModelVersion, &s.List.GeneratedAt, &items, &latency, &s.ServedAt, &s.Requested)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("served list %s: %w", recLogID, ports.ErrNotFound)
	}
	if err != nil {
		return s, wrap("served list", err)
	}
	var entries []servedItem
	if err := json.Unmarshal(items, &entries); err != nil {
		return s, fmt.Errorf("postgres: served list %s: items: %w", recLogID, err)
	}
	s.RecLogID, s.UserID, s.ServedBy = recLogID, domain.UserID(user), domain.Tier(servedBy)
	s.List.Tier = domain.Tier(tier)
	s.List.GeneratedAt, s.ServedAt = s.List.GeneratedAt.UTC(), s.ServedAt.UTC()
	s.Latency = time.Duration(latency.Microseconds)*time.Microsecond +
		time.Duration(latency.Days)*24*time.Hour + time.Duration(latency.Months)*30*24*time.Hour
	s.List.Items = make([]domain.ScoredMovie, len(entries))
	for i, e := range entries {
		s.List.Items[i] = domain.ScoredMovie{MovieID: domain.MovieID(e.MovieID), Score: e.Score, Title: e.Title}
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
