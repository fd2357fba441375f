package simulate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

var horrorFan = Taste{Genres: []string{"Horror", "Thriller"}, Weights: []float64{0.7, 0.3}}

func TestAffinity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		genres []string
		want   float64
	}{
		{nil, 0},
		{[]string{"Comedy"}, 0},
		{[]string{"Horror"}, 0.7},
		{[]string{"Thriller", "Drama"}, 0.3},
		{[]string{"Horror", "Thriller"}, 1},
	} {
		if got := horrorFan.Affinity(tc.genres); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Affinity(%v) = %g, want %g", tc.genres, got, tc.want)
		}
	}
}

func TestClickProbabilityFollowsTasteAndPosition(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	fav, other := []string{"Horror", "Thriller"}, []string{"Comedy"}
	if got := m.ClickProbability(horrorFan, fav, 1); math.Abs(got-m.MaxClick) > 1e-12 {
		t.Errorf("a movie of all favourite genres at rank 1: %g, want MaxClick %g", got, m.MaxClick)
	}
	// Outside the taste, appeal is (Curiosity/(1+Curiosity))^2 = 1/36.
	if got := m.ClickProbability(horrorFan, other, 1); math.Abs(got-m.MaxClick/36) > 1e-12 {
		t.Errorf("a movie outside the taste at rank 1: %g, want %g", got, m.MaxClick/36)
	}
	for rank := 1; rank < 20; rank++ {
		if m.ClickProbability(horrorFan, fav, rank+1) >= m.ClickProbability(horrorFan, fav, rank) {
			t.Fatalf("rank %d is not less likely clicked than rank %d", rank+1, rank)
		}
	}
	if m.ClickProbability(horrorFan, []string{"Horror"}, 1) <= m.ClickProbability(horrorFan, []string{"Thriller"}, 1) {
		t.Error("the stronger favourite genre is not the more appealing")
	}
}

// share runs Choose n times on list and returns how often each index was
// clicked, and how often nothing was.
func share(m Model, taste Taste, list [][]string, n int) (clicked []float64, none float64) {
	r := rand.New(rand.NewPCG(1, 2))
	clicked = make([]float64, len(list))
	for range n {
		if i := m.Choose(r, taste, list); i >= 0 {
			clicked[i]++
		} else {
			none++
		}
	}
	for i := range clicked {
		clicked[i] /= float64(n)
	}
	return clicked, none / float64(n)
}

func TestChooseIsACascade(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	fav, other := []string{"Horror"}, []string{"Comedy"}
	list := [][]string{other, fav, other, fav}
	got, none := share(m, horrorFan, list, 50_000)
	// Exact probabilities of the cascade: rank i is clicked if every rank
	// above was passed over and it is taken.
	pass := 1.0
	for i, genres := range list {
		p := m.ClickProbability(horrorFan, genres, i+1)
		if want := pass * p; math.Abs(got[i]-want) > 0.008 {
			t.Errorf("index %d clicked %.4f of the time, want %.4f", i, got[i], want)
		}
		pass *= 1 - p
	}
	if math.Abs(none-pass) > 0.008 {
		t.Errorf("nothing clicked %.4f of the time, want %.4f", none, pass)
	}
}

func TestTasteMakesTheDifference(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	onTaste, offTaste := make([][]string, 10), make([][]string, 10)
	for i := range onTaste {
		onTaste[i], offTaste[i] = []string{"Horror"}, []string{"Comedy", "Romance"}
	}
	_, noneOn := share(m, horrorFan, onTaste, 10_000)
	_, noneOff := share(m, horrorFan, offTaste, 10_000)
	ctrOn, ctrOff := 1-noneOn, 1-noneOff
	t.Logf("CTR of a list in the taste %.3f, outside it %.3f", ctrOn, ctrOff)
	if ctrOn < 3*ctrOff || ctrOn < 0.3 || ctrOff > 0.1 {
		t.Errorf("CTR %.3f on taste vs %.3f off taste: want a list in the taste clicked far more often", ctrOn, ctrOff)
	}
}

func TestReactFollowsAppeal(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	r := rand.New(rand.NewPCG(3, 4))
	count := func(genres []string) (finished, disliked int) {
		for range 20_000 {
			for _, ev := range m.React(r, horrorFan, genres) {
				switch ev {
				case domain.EventWatchComplete:
					finished++
				case domain.EventDislike:
					disliked++
				case domain.EventLike:
				default:
					t.Fatalf("unexpected reaction %q", ev)
				}
			}
		}
		return finished, disliked
	}
	favFinished, favDisliked := count([]string{"Horror", "Thriller"})
	otherFinished, otherDisliked := count([]string{"Comedy"})
	if favFinished != 20_000 || favDisliked != 0 {
		t.Errorf("a movie of every favourite genre: %d finished, %d disliked of 20000; want all finished", favFinished, favDisliked)
	}
	if otherFinished > 1_000 || otherDisliked < 8_000 {
		t.Errorf("a movie outside the taste: %d finished, %d disliked of 20000; want few finished, about half disliked", otherFinished, otherDisliked)
	}
}
