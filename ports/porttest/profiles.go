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
}
