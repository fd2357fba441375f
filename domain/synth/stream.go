package synth

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Timing of the events of one pick, in microseconds after its view. A
// chain spans at most chainReserve, which the planner keeps free at the
// end of each user's window so that chains rarely need clamping.
const (
	second       = int64(time.Second / time.Microsecond)
	minute       = 60 * second
	chainReserve = 4 * 60 * minute
	// maxTries bounds rejection sampling before an exact scan over the
	// catalog takes over, which only happens once a user has seen most of
	// what they like.
	maxTries = 256
)

// Each streams the whole history, user by user (user_0 first), calling fn
// once per event. Within a user, events come in time order. It stops at
// and returns the first error fn returns.
func (g *Generator) Each(fn func(domain.Interaction) error) error {
	return g.EachRange(0, g.cfg.Users, fn)
}

// EachRange streams the events of users from (inclusive) to to
// (exclusive), exactly as Each would emit them. A user's events depend
// only on the config, the catalog and the user's number, so disjoint
// ranges can be generated in parallel and concatenated in order.
func (g *Generator) EachRange(from, to int, fn func(domain.Interaction) error) error {
	if from < 0 || to > g.cfg.Users || from > to {
		return fmt.Errorf("synth: user range [%d, %d) is not within [0, %d)", from, to, g.cfg.Users)
	}
	w := &worker{g: g, stamp: make([]uint32, len(g.ids))}
	for u := from; u < to; u++ {
		if err := w.user(u, fn); err != nil {
			return err
		}
	}
	return nil
}

// pending is an event of the user being generated, before its timestamp
// is known (the number of picks decides how they spread).
type pending struct {
	movie  int32
	pick   int32
	typ    domain.EventType
	value  float64 // rating value; 0 for every other type
	offset int64   // microseconds after the pick's view
}

// worker holds the scratch state of one EachRange call, reused across
// users so that steady-state generation allocates only what it emits.
type worker struct {
	g      *Generator
	stamp  []uint32 // stamp[i] == cur when the current user has picked movie i
	cur    uint32
	events []pending
	starts []int64   // start time of each pick
	gaps   []float64 // spacings between pick starts
	id     []byte    // event id prefix of the current user
	r      rng

	// Per-user taste, precomputed over the (at most 8) ways a movie's
	// genres can overlap the user's favourites.
	fav    taste
	accept [1 << MaxFavourites]float64 // appeal relative to the user's best: the chance to keep a drawn movie
}

// overlap returns which favourites the genre set mask contains, as a
// 3-bit index into accept.
func (w *worker) overlap(mask uint64) int {
	var p int
	for k := range w.fav.n {
		p |= int(mask>>w.fav.bits[k]&1) << k
	}
	return p
}

// user generates and emits every event of user u.
func (w *worker) user(u int, fn func(domain.Interaction) error) error {
	g := w.g
	w.cur++
	if w.cur == 0 { // wrapped after 2^32 users: forget every old stamp
		clear(w.stamp)
		w.cur = 1
	}
	w.prepareTaste(u)
	w.r = newRNG(g.cfg.Seed, streamEvents, uint64(u))
	target := int(g.activity[u])
	w.events = w.events[:0]
	picks := 0
	for len(w.events) < target {
		i := w.pick()
		if i < 0 {
			break // the user has seen the whole catalog
		}
		w.chain(int32(i), int32(picks), w.accept[w.overlap(g.masks[i])])
		picks++
	}
	w.events = w.events[:min(len(w.events), target)]
	lo, hi := w.window()
	w.schedule(picks, lo, max(lo, hi-chainReserve))

	user := userID(u)
	w.id = strconv.AppendInt(append(w.id[:0], "syn-"...), g.cfg.Seed, 10)
	w.id = append(strconv.AppendInt(append(w.id, '-'), int64(u), 10), '-')
	prefix := len(w.id)
	prev := lo
	for k, e := range w.events {
		t := min(max(w.starts[e.pick]+e.offset, prev), hi)
		prev = t
		var value *float64
		if e.typ == domain.EventRating {
			value = new(float64)
			*value = e.value
		}
		ts := time.UnixMicro(t).UTC()
		w.id = strconv.AppendInt(w.id[:prefix], int64(k), 10)
		err := fn(domain.Interaction{
			EventID:    string(w.id),
			UserID:     user,
			MovieID:    g.ids[e.movie],
			Type:       e.typ,
			Value:      value,
			Weight:     g.cfg.Weights.For(e.typ, value),
			Time:       ts,
			IngestedAt: ts,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// prepareTaste fills the per-pattern tables of user u. Acceptance is
// normalised by the best appeal any movie of the catalog offers the user,
// which keeps rejection sampling fast without changing the distribution.
func (w *worker) prepareTaste(u int) {
	g := w.g
	w.fav = g.taste(u)
	n := 1 << w.fav.n
	for p := range n {
		t := 0.0 // the user's summed weight on the genres of pattern p
		for k := range w.fav.n {
			if p&(1<<k) != 0 {
				t += w.fav.weights[k]
			}
		}
		w.accept[p] = math.Pow(Curiosity+t, g.cfg.GenreAffinity)
	}
	best := 0.0
	for _, m := range g.patterns {
		best = max(best, w.accept[w.overlap(m)])
	}
	for p := range n {
		w.accept[p] /= best
	}
}

// pick draws an unseen movie with probability proportional to
// popularity × appeal, marks it seen and returns its index, or -1 when
// the user has seen everything.
func (w *worker) pick() int {
	g := w.g
	for range maxTries {
		i := g.popDraw.sample(&w.r)
		if w.stamp[i] == w.cur {
			continue
		}
		if a := w.accept[w.overlap(g.masks[i])]; a >= 1 || w.r.float() < a {
			w.stamp[i] = w.cur
			return i
		}
	}
	// Exact draw over what is left: same distribution, linear cost.
	var total float64
	for i, s := range w.stamp {
		if s != w.cur {
			total += g.pop[i] * w.accept[w.overlap(g.masks[i])]
		}
	}
	if total <= 0 {
		return -1
	}
	x := w.r.float() * total
	last := -1
	for i, s := range w.stamp {
		if s == w.cur {
			continue
		}
		last = i
		if x -= g.pop[i] * w.accept[w.overlap(g.masks[i])]; x < 0 {
			break
		}
	}
	w.stamp[last] = w.cur
	return last
}

// chain appends the events of one pick. Enthusiasm grows with the movie's
// appeal a to the user relative to the best the catalog offers them (1 for
// a movie squarely in their strongest genres, near 0 far outside them, 1
// for everything when GenreAffinity is 0): an appealing movie is usually
// watched to the end, liked and rated highly; an unappealing one is often
// abandoned after a view, sometimes disliked (and then nothing positive
// follows).
func (w *worker) chain(movie, pick int32, a float64) {
	r := &w.r
	var off int64
	add := func(typ domain.EventType, value float64, lo, hi int64) {
		off += lo + int64(r.float()*float64(hi-lo))
		w.events = append(w.events, pending{movie: movie, pick: pick, typ: typ, value: value, offset: off})
	}
	add(domain.EventView, 0, 0, 0)
	if r.float() < 0.1+0.8*a { // enjoyed
		if r.float() < 0.6 {
			add(domain.EventClick, 0, 5*second, 2*minute)
		}
		if r.float() < 0.15 {
			add(domain.EventAddToList, 0, 5*second, minute)
		}
		if r.float() < 0.75 {
			add(domain.EventWatchComplete, 0, 80*minute, 180*minute)
		}
		if r.float() < 0.4 {
			add(domain.EventLike, 0, 10*second, 10*minute)
		}
		if r.float() < 0.45 {
			add(domain.EventRating, stars(3+1.8*a, r), 10*second, 10*minute)
		}
		return
	}
	switch x := r.float(); {
	case x < 0.3:
		add(domain.EventDislike, 0, 30*second, 30*minute)
	case x < 0.65:
		add(domain.EventClick, 0, 5*second, 2*minute)
		if r.float() < 0.4 {
			add(domain.EventRating, stars(1.5+1.5*a, r), 20*minute, 120*minute)
		}
	}
}

// stars draws a whole-star rating around mean.
func stars(mean float64, r *rng) float64 {
	return min(5, max(1, math.Round(mean+0.8*r.normal())))
}

// window draws the sub-window [lo, hi] of the history in which the user is
// active: between a quarter of the span and all of it, anywhere inside.
func (w *worker) window() (lo, hi int64) {
	g := w.g
	span := g.endUS - g.startUS
	length := int64(float64(span) * w.r.between(0.25, 1))
	lo = g.startUS + int64(w.r.float()*float64(span-length))
	return lo, lo + length
}

// schedule spreads the starts of picks uniformly over [lo, hi] in
// increasing order, using normalised exponential spacings (the order
// statistics of uniforms without a sort).
func (w *worker) schedule(picks int, lo, hi int64) {
	w.gaps = w.gaps[:0]
	var total float64
	for range picks + 1 {
		gap := w.r.exp()
		w.gaps = append(w.gaps, gap)
		total += gap
	}
	w.starts = w.starts[:0]
	var acc float64
	for _, gap := range w.gaps[:picks] {
		acc += gap
		w.starts = append(w.starts, lo+int64(float64(hi-lo)*acc/total))
	}
}
