package synth_test

import (
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// collect runs g to completion and returns every event.
func collect(t testing.TB, g *synth.Generator) []domain.Interaction {
	t.Helper()
	var out []domain.Interaction
	if err := g.Each(func(in domain.Interaction) error {
		out = append(out, in)
		return nil
	}); err != nil {
		t.Fatalf("Each: %v", err)
	}
	return out
}

// newGen builds a generator or fails the test.
func newGen(t testing.TB, cfg synth.Config, movies []domain.Movie) *synth.Generator {
	t.Helper()
	g, err := synth.New(cfg, movies)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// positive reports whether an event is unambiguous liking: what a
// recommender should learn the taste from.
func positive(in domain.Interaction) bool {
	switch in.Type {
	case domain.EventLike, domain.EventWatchComplete, domain.EventAddToList:
		return true
	case domain.EventRating:
		return *in.Value >= 4
	}
	return false
}

// shape summarises a stream as the tests and the report need it.
type shape struct {
	events, users  int
	topDecileShare float64 // share of events on the 10% most interacted movies
	bottomHalf     float64 // share of events on the 50% least interacted movies
	favPositive    float64 // mean over users of the share of positive events in favourite genres
	favCatalog     float64 // mean over the same users of the share of movies in favourite genres
	favView        float64 // mean over users of the share of picks (views) in favourite genres
	favDislike     float64 // mean over users with dislikes of the share of dislikes in favourite genres
}

func measure(g *synth.Generator, movies []domain.Movie, events []domain.Interaction) shape {
	bit := map[string]uint64{}
	maskOf := func(genres []string) uint64 {
		var m uint64
		for _, genre := range genres {
			if _, ok := bit[genre]; !ok {
				bit[genre] = 1 << len(bit)
			}
			m |= bit[genre]
		}
		return m
	}
	movieMask := make(map[domain.MovieID]uint64, len(movies))
	moviesByMask := map[uint64]int{} // the catalog as counts per genre set
	for _, m := range movies {
		movieMask[m.ID] = maskOf(m.Genres)
		moviesByMask[movieMask[m.ID]]++
	}
	favMask := map[domain.UserID]uint64{}
	for _, ut := range g.Users() {
		favMask[ut.User] = maskOf(ut.Genres)
	}
	perMovie := make(map[domain.MovieID]int, len(movies))
	type tally struct{ pos, posFav, dis, disFav, view, viewFav int }
	perUser := map[domain.UserID]*tally{}
	for _, in := range events {
		perMovie[in.MovieID]++
		tl := perUser[in.UserID]
		if tl == nil {
			tl = &tally{}
			perUser[in.UserID] = tl
		}
		fav := movieMask[in.MovieID]&favMask[in.UserID] != 0
		switch {
		case in.Type == domain.EventView:
			tl.view++
			if fav {
				tl.viewFav++
			}
		case positive(in):
			tl.pos++
			if fav {
				tl.posFav++
			}
		case in.Type == domain.EventDislike:
			tl.dis++
			if fav {
				tl.disFav++
			}
		}
	}
	counts := make([]int, len(movies))
	for i, m := range movies {
		counts[i] = perMovie[m.ID]
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	var top, bottom int
	for i, c := range counts {
		if i < len(counts)/10 {
			top += c
		}
		if i >= len(counts)/2 {
			bottom += c
		}
	}
	s := shape{events: len(events), users: len(perUser)}
	s.topDecileShare = float64(top) / float64(len(events))
	s.bottomHalf = float64(bottom) / float64(len(events))
	var nPos, nDis int
	for u, tl := range perUser {
		if tl.pos > 0 {
			nPos++
			s.favPositive += float64(tl.posFav) / float64(tl.pos)
			var inCat int
			for mask, n := range moviesByMask {
				if mask&favMask[u] != 0 {
					inCat += n
				}
			}
			s.favCatalog += float64(inCat) / float64(len(movies))
		}
		s.favView += float64(tl.viewFav) / float64(tl.view)
		if tl.dis > 0 {
			nDis++
			s.favDislike += float64(tl.disFav) / float64(tl.dis)
		}
	}
	s.favPositive /= float64(max(nPos, 1))
	s.favCatalog /= float64(max(nPos, 1))
	s.favView /= float64(len(perUser))
	s.favDislike /= float64(max(nDis, 1))
	return s
}
