// Package synth generates deterministic synthetic interaction histories
// with the structure real ones have — a few blockbusters and a long tail,
// a few heavy users and many light ones, and tastes that cluster by genre —
// so that Marquee can be demonstrated, load-tested at 10M+ events and
// checked for learning taste without shipping anyone's real data.
//
// The model: every movie has an intrinsic popularity pop_i = rank_i^-s
// (PopularityExponent s, ranks a seeded permutation). Every user has one
// to three favourite genres with weights summing to 1, and a movie's
// affinity t for the user is the summed weight of its favourite genres.
// The movie's appeal is (Curiosity + t)^GenreAffinity. A user picks movies
// without replacement with probability proportional to pop_i·appeal, and
// each pick becomes a short, plausible chain of events (view, then perhaps
// click, add to list, watch to the end, like, rate — or dislike and leave)
// whose enthusiasm grows with the appeal. Output is streamed one event at
// a time, so no run is limited by memory, and each user's events depend
// only on the seed and the user's number, so users can be generated in
// parallel.
package synth

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/marquee-recsys/marquee/domain"
)

// maxGenreBits is how many distinct genres can carry taste: genre sets are
// bitmasks. A catalog with more genres than this (none realistic) has its
// rarest ones ignored by the taste model.
const maxGenreBits = 64

// Generator produces the history described by its Config over one catalog.
// It is immutable after New and safe for concurrent use: EachRange calls
// over disjoint user ranges can run in parallel.
type Generator struct {
	cfg     Config
	ids     []domain.MovieID
	masks   []uint64  // genre bits of each movie
	pop     []float64 // intrinsic popularity of each movie
	popDraw alias     // samples movies in proportion to pop
	genres  []string  // genre of each bit, most frequent first
	genreCm []float64 // cumulative movie counts by bit, for drawing favourites
	// patterns lists the distinct genre masks of the catalog, so each user
	// can normalise acceptance by the best appeal actually on offer.
	patterns []uint64
	activity []int32 // target number of events of each user
	startUS  int64   // first microsecond of the history
	endUS    int64   // last microsecond of the history
}

// UserTaste is the hidden truth behind one synthetic user, for tests that
// check whether a recommender recovers it.
type UserTaste struct {
	User domain.UserID
	// Genres are the user's favourite genres, strongest first.
	Genres []string
	// Weights are the strengths of Genres, in the same order; they sum to 1.
	Weights []float64
	// Events is how many events the generator aims to emit for the user;
	// it emits fewer only when the user runs out of unseen movies.
	Events int
}

// New validates cfg and prepares a generator over movies, which must be a
// non-empty catalog of valid movies with distinct ids. The catalog order
// matters to the output (it is part of the seeded world), its contents are
// copied.
func New(cfg Config, movies []domain.Movie) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(movies) == 0 {
		return nil, errors.New("synth: the catalog is empty")
	}
	if len(movies) > math.MaxInt32 {
		return nil, fmt.Errorf("synth: %d movies is more than the generator indexes", len(movies))
	}
	g := &Generator{cfg: cfg, ids: make([]domain.MovieID, len(movies))}
	seen := make(map[domain.MovieID]struct{}, len(movies))
	for i, m := range movies {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("synth: movie %d (%q): %w", i, m.ID, err)
		}
		if _, dup := seen[m.ID]; dup {
			return nil, fmt.Errorf("synth: movie %d: duplicate id %q", i, m.ID)
		}
		seen[m.ID] = struct{}{}
		g.ids[i] = m.ID
	}
	g.indexGenres(movies)
	g.rankPopularity()
	g.startUS = cfg.Start.UnixMicro()
	if cfg.Start.Nanosecond()%1000 != 0 {
		g.startUS++ // the first whole microsecond not before Start
	}
	g.endUS = cfg.Start.Add(cfg.Span).UnixMicro()
	g.planActivity()
	return g, nil
}

// indexGenres assigns a bit to each genre, most frequent first, and
// records each movie's genre set and the distinct sets in the catalog.
func (g *Generator) indexGenres(movies []domain.Movie) {
	count := map[string]int{}
	for _, m := range movies {
		for _, name := range m.Genres {
			count[name]++
		}
	}
	for name := range count {
		g.genres = append(g.genres, name)
	}
	slices.SortFunc(g.genres, func(a, b string) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b))
	})
	if len(g.genres) > maxGenreBits {
		g.genres = g.genres[:maxGenreBits]
	}
	bit := make(map[string]uint64, len(g.genres))
	var total float64
	for i, name := range g.genres {
		bit[name] = 1 << i
		total += float64(count[name])
		g.genreCm = append(g.genreCm, total)
	}
	g.masks = make([]uint64, len(movies))
	distinct := map[uint64]struct{}{}
	for i, m := range movies {
		for _, name := range m.Genres {
			g.masks[i] |= bit[name]
		}
		distinct[g.masks[i]] = struct{}{}
	}
	for m := range distinct {
		g.patterns = append(g.patterns, m)
	}
	slices.Sort(g.patterns)
}

// rankPopularity gives movies Zipf popularity over a seeded permutation,
// so that popularity is independent of catalog order and of genre.
func (g *Generator) rankPopularity() {
	n := len(g.ids)
	rank := make([]int, n)
	for i := range rank {
		rank[i] = i + 1
	}
	r := newRNG(g.cfg.Seed, streamCatalog, 0)
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		rank[i], rank[j] = rank[j], rank[i]
	}
	g.pop = make([]float64, n)
	for i, k := range rank {
		g.pop[i] = math.Pow(float64(k), -g.cfg.PopularityExponent)
	}
	g.popDraw = newAlias(g.pop)
}

// planActivity draws every user's Pareto activity and scales it so that
// the mean is MeanEventsPerUser after capping: the heaviest users are
// capped at MaxActivityFactor times the mean and at about what the catalog
// can hold, and the others make up the difference.
func (g *Generator) planActivity() {
	raw := make([]float64, g.cfg.Users)
	var sum float64
	for u := range raw {
		raw[u] = g.taste(u).activity
		sum += raw[u]
	}
	limit := math.Min(MaxActivityFactor*g.cfg.MeanEventsPerUser, 2*float64(len(g.ids)))
	target := g.cfg.MeanEventsPerUser * float64(g.cfg.Users)
	scale := target / sum
	for range 8 { // fixed point of Σ min(limit, scale·raw) = target
		var got float64
		for _, x := range raw {
			got += math.Min(limit, math.Max(1, x*scale))
		}
		if got <= 0 || math.Abs(got-target) < 0.5 {
			break
		}
		scale *= target / got
	}
	g.activity = make([]int32, g.cfg.Users)
	for u, x := range raw {
		g.activity[u] = int32(math.Max(1, math.Round(math.Min(limit, x*scale))))
	}
}

// taste is a user's hidden taste and raw activity, drawn from the user's
// own stream so that it can be recomputed without replaying anything.
type taste struct {
	n        int                    // number of favourite genres
	bits     [MaxFavourites]int     // favourite genres as bit indexes, strongest first
	weights  [MaxFavourites]float64 // their weights, summing to 1
	activity float64                // unscaled Pareto activity
}

func (g *Generator) taste(u int) taste {
	r := newRNG(g.cfg.Seed, streamTaste, uint64(u))
	var t taste
	switch x := r.float(); {
	case x < 0.4:
		t.n = 1
	case x < 0.8:
		t.n = 2
	default:
		t.n = 3
	}
	t.n = min(t.n, len(g.genres))
	total := 0.0
	if len(g.genreCm) > 0 {
		total = g.genreCm[len(g.genreCm)-1]
	}
	// Favourites are drawn in proportion to how many movies carry the
	// genre: more people love drama than westerns, and a taste the
	// catalog cannot feed would only make users wander off it.
	for k := 0; k < t.n; {
		b, exact := slices.BinarySearch(g.genreCm, r.float()*total)
		if exact { // genre b covers [genreCm[b-1], genreCm[b])
			b++
		}
		if !slices.Contains(t.bits[:k], b) {
			t.bits[k] = b
			t.weights[k] = r.between(0.5, 1.5)
			k++
		}
	}
	var sum float64
	for k := range t.n {
		sum += t.weights[k]
	}
	for k := range t.n {
		t.weights[k] /= sum
	}
	// Sort strongest first (at most three entries).
	for i := 1; i < t.n; i++ {
		for j := i; j > 0 && t.weights[j] > t.weights[j-1]; j-- {
			t.weights[j], t.weights[j-1] = t.weights[j-1], t.weights[j]
			t.bits[j], t.bits[j-1] = t.bits[j-1], t.bits[j]
		}
	}
	t.activity = math.Pow(1-r.float(), -1/g.cfg.ActivityExponent)
	return t
}

// userID names user u.
func userID(u int) domain.UserID { return domain.UserID("user_" + strconv.Itoa(u)) }

// Users returns the hidden taste of every user, indexed by user number.
func (g *Generator) Users() []UserTaste {
	out := make([]UserTaste, g.cfg.Users)
	for u := range out {
		out[u], _ = g.Taste(u)
	}
	return out
}

// Taste returns the hidden taste of user u (named user_<u>), and false
// when u is not in [0, Users).
func (g *Generator) Taste(u int) (UserTaste, bool) {
	if u < 0 || u >= g.cfg.Users {
		return UserTaste{}, false
	}
	t := g.taste(u)
	ut := UserTaste{User: userID(u), Events: int(g.activity[u])}
	for k := range t.n {
		ut.Genres = append(ut.Genres, g.genres[t.bits[k]])
		ut.Weights = append(ut.Weights, t.weights[k])
	}
	return ut, true
}

// Config returns the configuration the generator was built with.
func (g *Generator) Config() Config { return g.cfg }
