package actors

import (
	"math"
	"reflect"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// TestExplainedRecommendations: with explain, each item of the vector list
// carries the user's history movies behind it, largest share first, and
// when the history is short enough for every share to be listed they sum
// to the item's score; the cache keeps the list without reasons, and the
// popular list of a user without a vector has none.
func TestExplainedRecommendations(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.seedPopular(t, 5)
	f.publishModel(t, "v1")
	ctx := testCtx(t)
	u := domain.UserID("explained")
	history := map[domain.MovieID]bool{"a0": true, "a1": true, "b0": true}
	if err := f.sys.Apply(ctx, []domain.Interaction{event(u, "a0", domain.EventLike), event(u, "a1", domain.EventWatchComplete),
		event(u, "b0", domain.EventClick)}); err != nil {
		t.Fatal(err)
	}
	s, err := f.sys.RecommendFiltered(ctx, u, 5, domain.Filter{}, true)
	if err != nil || s.List.Tier != domain.TierVector {
		t.Fatalf("%s %v", s.List.Tier, err)
	}
	for _, it := range s.List.Items {
		if len(it.Because) == 0 {
			t.Fatalf("%s has no reason", it.MovieID)
		}
		sum := 0.0
		for k, r := range it.Because {
			if !history[r.MovieID] || r.Share <= 0 || k > 0 && r.Share > it.Because[k-1].Share {
				t.Fatalf("%s: reasons %+v", it.MovieID, it.Because)
			}
			sum += r.Share
		}
		// Three history movies: every positive share is listed.
		if math.Abs(sum-it.Score) > 1e-3*math.Max(1, math.Abs(it.Score)) && len(it.Because) == 3 {
			t.Errorf("%s: shares sum to %v, score %v", it.MovieID, sum, it.Score)
		}
	}
	if s.List.Items[0].MovieID[0] == 'a' && s.List.Items[0].Because[0].MovieID[0] != 'a' {
		t.Errorf("the top a* movie is explained first by %s, not by an a* movie", s.List.Items[0].Because[0].MovieID)
	}
	again, err := f.sys.Recommend(ctx, u, 5)
	if err != nil || again.ServedBy != domain.TierCache {
		t.Fatalf("%s %v", again.ServedBy, err)
	}
	for _, it := range again.List.Items {
		if it.Because != nil {
			t.Fatal("the cached list kept the reasons")
		}
	}
	cold, err := f.sys.RecommendFiltered(ctx, "no-history", 3, domain.Filter{}, true)
	if err != nil || cold.List.Tier != domain.TierPopular || cold.List.Items[0].Because != nil {
		t.Fatalf("popular list: %s %+v %v", cold.List.Tier, cold.List.Items, err)
	}
}

// TestReasonsCrossNodes: a served list with reasons comes back unchanged
// through the protobuf a user grain on another node answers in.
func TestReasonsCrossNodes(t *testing.T) {
	t.Parallel()
	s := domain.Served{RecLogID: "rl", UserID: "u", ServedBy: domain.TierVector, ServedAt: t0, Requested: 2,
		List: domain.RecList{Tier: domain.TierVector, ModelVersion: "v1", GeneratedAt: t0, Items: []domain.ScoredMovie{
			{MovieID: "a1", Score: 0.9, Title: "A1", Because: []domain.Reason{{MovieID: "a0", Title: "A0", Share: 0.7}, {MovieID: "a2", Share: 0.1}}},
			{MovieID: "b1", Score: 0.2}}}}
	got := recommendedFromPB(recommendedToPB(&recommended{Served: s})).Served
	if !reflect.DeepEqual(got.List.Items, s.List.Items) {
		t.Fatalf("items came back as %+v", got.List.Items)
	}
}
