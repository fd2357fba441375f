package porttest

import (
	"errors"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// BatchStore is the contract of ports.BatchStore.
func BatchStore(t *testing.T, newStore func(t *testing.T) ports.BatchStore) {
	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx(t), domain.UserID(uniq(t, "nobody"))); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("put all then get, newer version replaces", func(t *testing.T) {
		s := newStore(t)
		u1, u2 := domain.UserID(uniq(t, "u1")), domain.UserID(uniq(t, "u2"))
		must(t, s.PutAll(ctx(t), "v1", []ports.BatchList{
			{UserID: u1, List: list(domain.TierBatch, "a", "b")},
			{UserID: u2, List: list(domain.TierBatch, "c")},
		}))
		must(t, s.PutAll(ctx(t), "v2", []ports.BatchList{{UserID: u1, List: list(domain.TierBatch, "d", "e", "f")}}))
		got, err := s.Get(ctx(t), u1)
		must(t, err)
		if got.ModelVersion != "v2" || got.Tier != domain.TierBatch || len(got.Items) != 3 || got.Items[0].MovieID != "d" {
			t.Fatalf("u1 = %+v", got)
		}
		got, err = s.Get(ctx(t), u2)
		must(t, err)
		if got.ModelVersion != "v1" || len(got.Items) != 1 || got.Items[0].MovieID != "c" {
			t.Fatalf("u2 kept its old list? got %+v", got)
		}
	})
	batchStoreErasure(t, newStore)
}
