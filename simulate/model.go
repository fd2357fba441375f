package simulate

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// Taste is a simulated user's hidden preference: favourite genres with
// weights summing to 1, as domain/synth draws them.
type Taste struct {
	Genres  []string
	Weights []float64
}

// Affinity is the summed weight of the favourite genres among genres: 0
// for a movie outside every favourite genre, 1 for one that carries them
// all.
func (t Taste) Affinity(genres []string) float64 {
	a := 0.0
	for i, g := range t.Genres {
		if slices.Contains(genres, g) {
			a += t.Weights[i]
		}
	}
	return min(a, 1)
}

// Model is how a simulated user reacts to a list: a cascade with position
// bias. The user reads the list from the top, looks at rank r with
// probability 1/log2(r+1) (the discount of DCG), clicks a movie they look
// at with a probability that grows with its appeal, and stops at the first
// click. After a click, appeal also decides what follows: watching to the
// end and liking, or disliking.
type Model struct {
	// MaxClick is the click probability of a movie squarely in the user's
	// taste at rank 1.
	MaxClick float64
	// Sharpness is how strongly appeal follows genres, the GenreAffinity of
	// domain/synth: appeal = ((Curiosity + affinity) / (Curiosity + 1))^Sharpness.
	Sharpness float64
}

// DefaultModel clicks on about 40% of lists of ten movies in one of a
// user's favourite genres and on under 5% of lists that ignore their taste.
func DefaultModel() Model {
	return Model{MaxClick: 0.2, Sharpness: synth.DefaultConfig().GenreAffinity}
}

// Appeal is how much a movie with genres attracts a user of taste t, in
// (0, 1]: 1 for a movie in all their favourite genres, about 1/36 for one
// outside them with the default sharpness.
func (m Model) Appeal(t Taste, genres []string) float64 {
	return math.Pow((synth.Curiosity+t.Affinity(genres))/(synth.Curiosity+1), m.Sharpness)
}

// Examine is the probability that a user looks at rank (1-based) at all.
func Examine(rank int) float64 { return 1 / math.Log2(float64(rank)+1) }

// ClickProbability is the chance that a user of taste t clicks a movie
// with genres shown at rank, given that no movie above it was clicked.
func (m Model) ClickProbability(t Taste, genres []string, rank int) float64 {
	return m.MaxClick * m.Appeal(t, genres) * Examine(rank)
}

// Choose returns the index in list (the genres of each movie, best rank
// first) of the movie the user clicks, or -1 when they click nothing.
func (m Model) Choose(r *rand.Rand, t Taste, list [][]string) int {
	for i, genres := range list {
		if r.Float64() < m.ClickProbability(t, genres, i+1) {
			return i
		}
	}
	return -1
}

// React returns the events that follow a click on a movie with genres:
// the user watches to the end with probability appeal and then likes it
// with probability appeal; a user who does not finish dislikes it with
// probability (1-appeal)/2.
func (m Model) React(r *rand.Rand, t Taste, genres []string) []domain.EventType {
	appeal := m.Appeal(t, genres)
	if r.Float64() < appeal {
		if r.Float64() < appeal {
			return []domain.EventType{domain.EventWatchComplete, domain.EventLike}
		}
		return []domain.EventType{domain.EventWatchComplete}
	}
	if r.Float64() < (1-appeal)/2 {
		return []domain.EventType{domain.EventDislike}
	}
	return nil
}
