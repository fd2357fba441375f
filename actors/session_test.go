package actors

import (
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// TestSessionFoldsInWithoutAUser: a session that watched a* movies gets
// the other a* movies, from the fold-in against the serving model and
// none of its own; it is logged with tier session, and no user state is
// made for it. Without a model it gets popular movies minus its own.
func TestSessionFoldsInWithoutAUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.seedPopular(t, 10)
	ctx := testCtx(t)
	cold, err := f.sys.RecommendSession(ctx, "sess-cold", map[domain.MovieID]float64{"m0": 5, "m1": 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cold.ServedBy != domain.TierSession || cold.List.Tier != domain.TierPopular || movieIDs(cold.List)[0] != "m2" {
		t.Fatalf("without a model: %s/%s %v, want popular from m2", cold.ServedBy, cold.List.Tier, movieIDs(cold.List))
	}

	f.publishModel(t, "v1")
	s, err := f.sys.RecommendSession(ctx, "sess-1", map[domain.MovieID]float64{"a0": 5, "a1": 1, "b0": -4}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if s.ServedBy != domain.TierSession || s.List.Tier != domain.TierVector || s.List.ModelVersion != "v1" || s.RecLogID == "" {
		t.Fatalf("served %s/%s %q %q", s.ServedBy, s.List.Tier, s.List.ModelVersion, s.RecLogID)
	}
	for i, id := range movieIDs(s.List) {
		if id == "a0" || id == "a1" || id == "b0" {
			t.Fatalf("the session's own %s was recommended", id)
		}
		if id[0] != 'a' {
			t.Fatalf("item %d is %s: a session of a* movies gets a* movies first (%v)", i, id, movieIDs(s.List))
		}
	}
	waitFor(t, "the session's list logged", func() bool {
		l, err := f.analytics.ServedList(ctx, s.RecLogID)
		return err == nil && l.ServedBy == domain.TierSession && l.UserID == "sess-1"
	})
	if h, _ := f.log.UserHistory(ctx, "sess-1"); len(h) != 0 {
		t.Fatalf("a session stored history: %v", h)
	}
}
