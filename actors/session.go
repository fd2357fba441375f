package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// RecommendSession serves n movies to an anonymous session from what it
// did: weights holds the summed weight of its interactions per movie (as
// a user's history would). The list is the exact fold-in of those
// weights against the serving model, searched like the vector tier and
// excluding every movie of the session; without a model, or without a
// positive weight on a movie the model knows, it is popular movies minus
// the session's. Nothing is stored but the served list, logged under the
// session id with tier "session" and a rec_log_id like any other.
func (s *System) RecommendSession(ctx context.Context, session domain.UserID, weights map[domain.MovieID]float64, n int) (domain.Served, error) {
	e := s.env
	start := e.Now()
	seen := make(domain.MovieSet, len(weights))
	for id := range weights {
		seen[id] = struct{}{}
	}
	req := WalkRequest{User: session, N: n, Seen: seen, SkipCache: true, SkipBatch: true}
	if sm := e.Models.Current(); sm != nil {
		row, err := sm.Folder.NewRow(weights)
		if err != nil {
			return domain.Served{}, err
		}
		vec, err := row.FoldIn()
		switch {
		case err == nil:
			req.Vector, req.ModelVersion = vec, sm.Model.Version
		case !errors.Is(err, als.ErrNoPreference):
			return domain.Served{}, err
		}
	}
	list, _, err := e.walker.Walk(ctx, req)
	if err != nil {
		return domain.Served{}, fmt.Errorf("every tier failed for session %s: %w: %w", session, ports.ErrUnavailable, err)
	}
	sv, err := e.served(session, list, domain.TierSession, start, n)
	if err != nil {
		return domain.Served{}, err
	}
	e.logServed(sv)
	return sv, nil
}
