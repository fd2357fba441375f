package training

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// TestPositiveMinRating trains on events weighed with a positive
// threshold of 4 stars: a rating below it is seen (never in the user's
// batch list, never held out as something to predict) but no preference
// (the published vector is the fold-in of the history, zero weights
// included, bit for bit), and a user whose every rating is below it gets
// no vector and an empty batch list, as the fold-in gives none.
func TestPositiveMinRating(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	weights := domain.DefaultWeights()
	weights.PositiveMinRating = 4
	w := newWorldWeighted(t, 300, weights)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range []domain.MovieID{"movie_1", "movie_2"} {
		v := 2.0
		ev, err := domain.NewInteraction(domain.EventInput{EventID: "low-" + string(m), UserID: "lowrater", MovieID: string(m),
			Type: string(domain.EventRating), Value: &v, Timestamp: new(at.Add(time.Duration(i) * time.Hour))}, weights, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.log.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	out, plan := w.runPlan(t)
	if !out.Promoted {
		t.Fatalf("not promoted: %s", out.GateReason)
	}
	// Nothing held out has a weight of 0: only preferences are predicted.
	for u, items := range plan.Holdout {
		cols, vals := plan.Full.Row(u)
		for _, it := range items {
			j, _ := slices.BinarySearch(cols, it)
			if vals[j] <= 0 {
				t.Fatalf("user %s: held-out movie %s has weight %g", plan.Data.Users[u], plan.Data.Movies[it], vals[j])
			}
		}
	}
	cur, err := w.model.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := als.FolderFromModel(cur)
	if err != nil {
		t.Fatal(err)
	}
	zeros := 0
	for _, u := range plan.Data.Users {
		h, err := w.log.UserHistory(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		prefs := domain.NewPreferences()
		for _, ev := range h {
			prefs.Add(ev)
			if ev.Type == domain.EventRating && *ev.Value < 4 {
				if ev.Weight != 0 {
					t.Fatalf("a %g-star rating weighs %g", *ev.Value, ev.Weight)
				}
				zeros++
			}
		}
		l, err := w.batch.Get(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		seen := prefs.Seen()
		for _, it := range l.Items {
			if _, ok := seen[it.MovieID]; ok {
				t.Fatalf("the batch list of %s holds %s, which they have seen", u, it.MovieID)
			}
		}
		p, err := w.prof.Get(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		vec, err := f.FoldInMovies(prefs.Weights)
		if errors.Is(err, als.ErrNoPreference) {
			if p.Vector != nil || len(l.Items) != 0 {
				t.Fatalf("%s has no preference, but a vector (%d values) and %d listed movies", u, len(p.Vector), len(l.Items))
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vec, p.Vector) {
			t.Fatalf("the published vector of %s differs from its fold-in", u)
		}
	}
	if zeros == 0 {
		t.Fatal("the synthetic history has no rating below 4 stars")
	}
	if p, _ := w.prof.Get(ctx, "lowrater"); p.Vector != nil {
		t.Fatal("a user with only low ratings got a vector")
	}
}
