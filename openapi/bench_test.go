package openapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/marquee-recsys/marquee/domain"
)

// listRecommender answers every user with the same list of n titled
// movies, as a cache hit does.
type listRecommender struct{ items []domain.ScoredMovie }

func (r listRecommender) RecommendFiltered(_ context.Context, u domain.UserID, n int, _ domain.Filter, _ bool) (domain.Served, error) {
	return domain.Served{RecLogID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", UserID: u, ServedBy: domain.TierCache, ServedAt: now, Requested: n,
		List: domain.RecList{Items: r.items[:min(n, len(r.items))], Tier: domain.TierVector, ModelVersion: "als-20261129-020000", GeneratedAt: now}}, nil
}

// BenchmarkGetRecommendations is one GET /api/recommendations of 10
// movies through the node's router (humago, as bootstrap serves it), from
// the parsed request to the written body: the HTTP edge's own cost on a
// cache hit.
func BenchmarkGetRecommendations(b *testing.B) {
	items := make([]domain.ScoredMovie, 10)
	for i := range items {
		items[i] = domain.ScoredMovie{MovieID: domain.MovieID(fmt.Sprint("movie-", i+1)), Title: fmt.Sprintf("Movie number %d (1995)", i+1),
			Score: 1.0 / float64(i+2)}
	}
	mux := http.NewServeMux()
	Register(humago.New(mux, Config()), Deps{Recommender: listRecommender{items: items}, Now: func() time.Time { return now }})
	req := httptest.NewRequest(http.MethodGet, "/api/recommendations?user_id=user_123&n=10", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
