package porttest

import (
	"errors"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ProfileStore is the contract of ports.ProfileStore.
func ProfileStore(t *testing.T, newStore func(t *testing.T) ports.ProfileStore) {
	t.Run("round trip and replace", func(t *testing.T) {
		s, user := newStore(t), domain.UserID(uniq(t, "u"))
		if _, err := s.Get(ctx(t), user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		p := domain.Profile{UserID: user, Vector: []float32{0.5, -1, 2}, ModelVersion: "v1",
			InteractionCount: 3, LastEventAt: baseTime, UpdatedAt: baseTime}
		must(t, s.Put(ctx(t), p))
		p.Vector[0] = 99 // the store must have copied it
		got, err := s.Get(ctx(t), user)
		must(t, err)
		if !slices.Equal(got.Vector, []float32{0.5, -1, 2}) || got.ModelVersion != "v1" || got.InteractionCount != 3 ||
			!got.LastEventAt.Equal(baseTime) || !got.UpdatedAt.Equal(baseTime) {
			t.Fatalf("got %+v", got)
		}
		p.Vector, p.ModelVersion, p.InteractionCount = nil, "", 4
		must(t, s.Put(ctx(t), p))
		got, err = s.Get(ctx(t), user)
		must(t, err)
		if len(got.Vector) != 0 || got.InteractionCount != 4 {
			t.Fatalf("after replace: %+v", got)
		}
	})
	t.Run("trained profiles never overwrite newer ones", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "u")
		newer := domain.Profile{UserID: domain.UserID(p + "a"), Vector: []float32{1}, ModelVersion: "v1", InteractionCount: 10, UpdatedAt: baseTime}
		older := domain.Profile{UserID: domain.UserID(p + "b"), Vector: []float32{1}, ModelVersion: "v1", InteractionCount: 3, UpdatedAt: baseTime}
		must(t, s.Put(ctx(t), newer))
		must(t, s.Put(ctx(t), older))
		trained := []domain.Profile{
			{UserID: newer.UserID, Vector: []float32{2}, ModelVersion: "v2", InteractionCount: 8, UpdatedAt: baseTime},
			{UserID: older.UserID, Vector: []float32{2}, ModelVersion: "v2", InteractionCount: 3, UpdatedAt: baseTime},
			{UserID: domain.UserID(p + "c"), Vector: []float32{2}, ModelVersion: "v2", InteractionCount: 1, UpdatedAt: baseTime},
		}
		must(t, s.PutTrained(ctx(t), trained))
		for id, want := range map[domain.UserID]string{newer.UserID: "v1", older.UserID: "v2", domain.UserID(p + "c"): "v2"} {
			got, err := s.Get(ctx(t), id)
			must(t, err)
			if got.ModelVersion != want {
				t.Errorf("%s has model %q, want %q", id, got.ModelVersion, want)
			}
		}
	})
	profileStoreErasure(t, newStore)
}
