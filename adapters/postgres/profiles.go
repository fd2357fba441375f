package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ProfileStore = (*ProfileStore)(nil)

// ProfileStore keeps user profiles in table user_profiles. A profile
// without a vector stores NULL (pgvector has no zero-dimension vectors).
type ProfileStore struct {
	pool *pgxpool.Pool
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
	_, err := s.pool.Exec(ctx, `
		INSERT INTO user_profiles (`+profileColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET
			preference_vector = excluded.preference_vector, model_version = excluded.model_version,
			interaction_count = excluded.interaction_count, last_event_at = excluded.last_event_at,
			updated_at = excluded.updated_at`,
		profileRow(p)...)
	return wrap("profile put", err)
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
			SELECT ` + profileColumns + ` FROM pg_temp.copy_user_profiles
			ON CONFLICT (user_id) DO UPDATE SET
				preference_vector = excluded.preference_vector, model_version = excluded.model_version,
				interaction_count = excluded.interaction_count, last_event_at = excluded.last_event_at,
				updated_at = excluded.updated_at
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
