package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ProfileStore = (*ProfileStore)(nil)

// ProfileStore keeps user profiles in table user_profiles. A profile
// without a vector stores NULL (pgvector has no zero-dimension vectors).
// Puts are group-committed: concurrent ones are upserted by one statement
// (see groupCommit). A put of a vector computed from a model other than
// the serving one (models.status = 'serving', read by the same statement)
// writes nothing: a node that has not switched to a new model yet cannot
// overwrite the profiles folded against it.
type ProfileStore struct {
	pool *pgxpool.Pool
	puts *groupCommit[domain.Profile, bool]
}

func newProfileStore(pool *pgxpool.Pool, flushers int) *ProfileStore {
	s := &ProfileStore{pool: pool}
	s.puts = newGroupCommit(flushers, groupLimit, s.putGroup)
	return s
}

const profileColumns = "user_id, preference_vector, model_version, interaction_count, last_event_at, updated_at"

// Get implements ports.ProfileStore.
func (s *ProfileStore) Get(ctx context.Context, user domain.UserID) (domain.Profile, error) {
	var p domain.Profile
	var id string
	var vec *pgvector.Vector
	err := s.pool.QueryRow(ctx, `SELECT `+profileColumns+` FROM user_profiles WHERE user_id = $1`, string(user)).
		Scan(&id, &vec, &p.ModelVersion, &p.InteractionCount, &p.LastEventAt, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Profile{}, fmt.Errorf("profile of %s: %w", user, ports.ErrNotFound)
	}
	if err != nil {
		return domain.Profile{}, wrap("profile get", err)
	}
	p.UserID = domain.UserID(id)
	if vec != nil {
		p.Vector = vec.Slice()
	}
	p.LastEventAt, p.UpdatedAt = p.LastEventAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// Put implements ports.ProfileStore.
func (s *ProfileStore) Put(ctx context.Context, p domain.Profile) error {
	stored, err := s.puts.do(ctx, p)
	if err == nil && !stored {
		return fmt.Errorf("profile of %s folded against %s: %w", p.UserID, p.ModelVersion, ports.ErrStaleModel)
	}
	return err
}

// servingGuard keeps the rows (aliased p) whose vector comes from the
// serving model, or from no model, or from any when none serves yet.
const servingGuard = `
	WHERE p.model_version = ''
	   OR p.model_version = (SELECT version FROM models WHERE status = 'serving')
	   OR NOT EXISTS (SELECT 1 FROM models WHERE status = 'serving')`

const profileUpsert = `
	ON CONFLICT (user_id) DO UPDATE SET
		preference_vector = excluded.preference_vector, model_version = excluded.model_version,
		interaction_count = excluded.interaction_count, last_event_at = excluded.last_event_at,
		updated_at = excluded.updated_at`

// putGroup upserts the profiles of several calls with one statement and
// reports, per call, whether its profile passed the serving-model guard.
// A user put twice keeps the later profile, as sequential puts would (the
// earlier call shares the later one's outcome). Rows are locked in user
// order, as PutTrained locks them, so a group and a training's
// publication wait for each other instead of deadlocking.
func (s *ProfileStore) putGroup(ctx context.Context, ps []domain.Profile) ([]bool, error) {
	last := make(map[domain.UserID]int, len(ps))
	for i, p := range ps {
		last[p.UserID] = i
	}
	n := len(last)
	users, versions := make([]string, 0, n), make([]string, 0, n)
	vecs, counts := make([]*pgvector.Vector, 0, n), make([]int64, 0, n)
	lastEvents, updated := make([]time.Time, 0, n), make([]time.Time, 0, n)
	for i, p := range ps {
		if last[p.UserID] != i {
			continue
		}
		var vec *pgvector.Vector
		if len(p.Vector) > 0 {
			v := pgvector.NewVector(p.Vector)
			vec = &v
		}
		users, vecs, versions = append(users, string(p.UserID)), append(vecs, vec), append(versions, p.ModelVersion)
		counts, lastEvents, updated = append(counts, int64(p.InteractionCount)), append(lastEvents, p.LastEventAt), append(updated, p.UpdatedAt)
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO user_profiles (`+profileColumns+`)
		SELECT * FROM unnest($1::text[], $2::vector[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[])
			AS p (`+profileColumns+`)`+servingGuard+`
		ORDER BY 1`+profileUpsert+`
		RETURNING user_id`,
		users, vecs, versions, counts, lastEvents, updated)
	if err != nil {
		return nil, wrap("profile put", err)
	}
	written, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("profile put", err)
	}
	ok := make(map[domain.UserID]bool, len(written))
	for _, u := range written {
		ok[domain.UserID(u)] = true
	}
	out := make([]bool, len(ps))
	for i, p := range ps {
		out[i] = ok[p.UserID]
	}
	return out, nil
}

// PutTrained implements ports.ProfileStore: the profiles are copied into a
// temporary table and upserted by one statement whose WHERE clause keeps
// every stored profile that counts more interactions than the trained
// one, so an event folded in while training ran is never lost.
func (s *ProfileStore) PutTrained(ctx context.Context, ps []domain.Profile) error {
	if len(ps) == 0 {
		return nil
	}
	ps = trainedOrder(ps)
	err := copyUpsert(ctx, s.pool, copySpec{
		table:   "user_profiles",
		columns: []string{"user_id", "preference_vector", "model_version", "interaction_count", "last_event_at", "updated_at"},
		rows:    len(ps),
		row:     func(i int) ([]any, error) { return profileRow(ps[i]), nil },
		upsert: `
			INSERT INTO user_profiles AS stored (` + profileColumns + `)
			SELECT ` + profileColumns + ` FROM pg_temp.copy_user_profiles ORDER BY user_id
			` + profileUpsert + `
			WHERE stored.interaction_count <= excluded.interaction_count`,
	})
	return wrap("profile put trained", err)
}

// trainedOrder resolves a user appearing more than once in ps as applying
// them in order would: a later profile replaces an earlier one unless it
// counts fewer interactions.
func trainedOrder(ps []domain.Profile) []domain.Profile {
	best := make(map[domain.UserID]int, len(ps))
	for i, p := range ps {
		if j, ok := best[p.UserID]; !ok || ps[j].InteractionCount <= p.InteractionCount {
			best[p.UserID] = i
		}
	}
	if len(best) == len(ps) {
		return ps
	}
	out := make([]domain.Profile, 0, len(best))
	for i, p := range ps {
		if best[p.UserID] == i {
			out = append(out, p)
		}
	}
	return out
}

func profileRow(p domain.Profile) []any {
	var vec any // untyped nil: NULL
	if len(p.Vector) > 0 {
		vec = pgvector.NewVector(p.Vector)
	}
	return []any{string(p.UserID), vec, p.ModelVersion, int64(p.InteractionCount), p.LastEventAt, p.UpdatedAt}
}
