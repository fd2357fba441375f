// Package simulate drives a running Marquee over HTTP with simulated users
// who click on recommended movies according to a hidden taste, so that
// click-through rate and coverage mean something in a demo and the
// dashboard fills with data.
//
// Tastes are those of domain/synth: with the same seed, user_0 … user_N
// have exactly the favourite genres the demo history of an embedded node
// was generated from (tastes depend only on the seed, the user's number
// and the catalog's genres), so the model has something real to learn.
// Users that appear during a run draw their tastes the same way. Behaviour
// on a list is the cascade of Model.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// Config is one simulation run.
type Config struct {
	// URL is the base URL of the node, such as http://127.0.0.1:8080.
	URL string
	// Users is the number of returning users, named user_0 … as in the
	// embedded demo.
	Users int
	// NewUsers is the probability that a request comes from a user who
	// appears for the first time (named sim-<run>-<n>).
	NewUsers float64
	// Duration bounds the run; zero runs until ctx ends.
	Duration time.Duration
	// Rate is the target number of recommendation requests per second.
	Rate float64
	// Seed selects the users' tastes and every random choice.
	Seed int64
	// ListSize is the n of each recommendation request (default 10).
	ListSize int
	// Workers is how many users act at once (default: from Rate).
	Workers int
	// Model is the users' behaviour (default DefaultModel).
	Model Model
	// Client is the HTTP client (default: one with a 10 s timeout).
	Client *http.Client
	// Progress, when set, is called with the figures so far every
	// ProgressEvery (default 5 s).
	Progress      func(Summary)
	ProgressEvery time.Duration
}

// newUserSlots is how many distinct tastes new users cycle through; they
// come from the same generator as the returning users, after them.
const newUserSlots = 10000

func (c *Config) defaults() error {
	if c.URL == "" {
		return errors.New("simulate: URL is empty")
	}
	if c.Users < 1 {
		return fmt.Errorf("simulate: users must be at least 1, got %d", c.Users)
	}
	if c.Rate <= 0 {
		return fmt.Errorf("simulate: rate must be positive, got %g", c.Rate)
	}
	if c.NewUsers < 0 || c.NewUsers > 1 {
		return fmt.Errorf("simulate: the new-user probability must be in [0, 1], got %g", c.NewUsers)
	}
	if c.ListSize == 0 {
		c.ListSize = 10
	}
	if c.Workers == 0 {
		c.Workers = min(max(1, int(c.Rate/25)+1), 16, c.Users)
	}
	if c.Model == (Model{}) {
		c.Model = DefaultModel()
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.Workers}}
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	c.URL = strings.TrimRight(c.URL, "/")
	return nil
}

// TierCount is what one tier served.
type TierCount struct {
	Lists   int `json:"lists"`
	Clicked int `json:"clicked"`
}

// CTR is the fraction of the tier's lists that got a click.
func (t TierCount) CTR() float64 {
	if t.Lists == 0 {
		return 0
	}
	return float64(t.Clicked) / float64(t.Lists)
}

// Summary is what a run observed.
type Summary struct {
	Elapsed time.Duration
	// Lists is the number of recommendation lists received, Clicked how
	// many of them the users clicked on.
	Lists, Clicked int
	// Events is the number of events accepted (clicks and what followed).
	Events int
	// NewUsers is the number of users who appeared during the run.
	NewUsers int
	// Failures counts failed requests; LastError is the latest.
	Failures  int
	LastError string
	ByTier    map[string]TierCount
}

// CTR is the fraction of lists that got a click.
func (s Summary) CTR() float64 { return TierCount{Lists: s.Lists, Clicked: s.Clicked}.CTR() }

// String is the summary as a short report, tiers in walk order.
func (s Summary) String() string {
	var b strings.Builder
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Lists) / s.Elapsed.Seconds()
	}
	fmt.Fprintf(&b, "%d lists in %s (%.0f/s), %d clicked: CTR %.1f%%; %d events accepted, %d new users, %d failures\n",
		s.Lists, s.Elapsed.Round(100*time.Millisecond), rate, s.Clicked, 100*s.CTR(), s.Events, s.NewUsers, s.Failures)
	for _, tier := range domain.Tiers {
		if c, ok := s.ByTier[string(tier)]; ok {
			fmt.Fprintf(&b, "  %-8s %7d lists %7d clicked  CTR %5.1f%%\n", tier, c.Lists, c.Clicked, 100*c.CTR())
		}
	}
	if s.LastError != "" {
		fmt.Fprintf(&b, "  last error: %s\n", s.LastError)
	}
	return b.String()
}

// user is one simulated user; each belongs to one worker, so a user's
// request and the events it leads to never overlap with their next one.
type user struct {
	id    string
	taste Taste
}

// runner holds the state of a run shared by its workers.
type runner struct {
	cfg    Config
	api    *client
	gen    *synth.Generator
	genres map[string][]string // movie id → genres
	run    string              // distinguishes this run's new users and event ids

	mu  sync.Mutex
	sum Summary
}

// Run simulates users against cfg.URL until cfg.Duration has passed or ctx
// ends, and returns what it observed. It fails early when the catalog
// cannot be read, and at the end when no request succeeded.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.defaults(); err != nil {
		return Summary{}, err
	}
	r := &runner{cfg: cfg, api: &client{base: cfg.URL, http: cfg.Client},
		run: strconv.FormatInt(time.Now().UnixMilli(), 36), sum: Summary{ByTier: map[string]TierCount{}}}
	movies, err := r.api.movies(ctx)
	if err != nil {
		return Summary{}, err
	}
	if err := r.prepare(movies); err != nil {
		return Summary{}, err
	}

	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	tokens := make(chan struct{}, cfg.Workers)
	var wg sync.WaitGroup
	wg.Go(func() { r.pace(ctx, tokens, start) })
	for w := range cfg.Workers {
		wg.Go(func() { r.work(ctx, w, tokens) })
	}
	wg.Wait()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Elapsed = time.Since(start)
	sum := r.snapshot()
	if sum.Lists == 0 && sum.Failures > 0 {
		return sum, fmt.Errorf("simulate: no request succeeded: %s", sum.LastError)
	}
	return sum, nil
}

// prepare indexes the catalog's genres and draws the users' tastes from
// it.
func (r *runner) prepare(movies []domain.Movie) error {
	if len(movies) == 0 {
		return errors.New("simulate: the catalog is empty")
	}
	r.genres = make(map[string][]string, len(movies))
	for _, m := range movies {
		r.genres[string(m.ID)] = m.Genres
	}
	sc := synth.DefaultConfig()
	sc.Users, sc.Seed = r.cfg.Users+newUserSlots, r.cfg.Seed
	gen, err := synth.New(sc, movies)
	if err != nil {
		return fmt.Errorf("simulate: tastes: %w", err)
	}
	r.gen = gen
	return nil
}

// pace hands out cfg.Rate tokens a second to the workers, as many at each
// tick as are due since the start; a token no worker is free to take is
// dropped, so a slow server gets fewer requests rather than a burst later.
// It also reports progress.
func (r *runner) pace(ctx context.Context, tokens chan<- struct{}, start time.Time) {
	defer close(tokens)
	interval := max(time.Duration(float64(time.Second)/r.cfg.Rate), 2*time.Millisecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	progress := time.NewTicker(r.cfg.ProgressEvery)
	defer progress.Stop()
	issued := 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int(now.Sub(start).Seconds() * r.cfg.Rate)
		give:
			for ; issued < due; issued++ {
				select {
				case tokens <- struct{}{}:
				default:
					issued = due
					break give
				}
			}
		case <-progress.C:
			if r.cfg.Progress != nil {
				r.mu.Lock()
				r.sum.Elapsed = time.Since(start)
				s := r.snapshot()
				r.mu.Unlock()
				r.cfg.Progress(s)
			}
		}
	}
}

// work owns the returning users whose number is w modulo the number of
// workers, and the new users it creates.
func (r *runner) work(ctx context.Context, w int, tokens <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(r.cfg.Seed), uint64(w)+1))
	var users []user
	for u := w; u < r.cfg.Users; u += r.cfg.Workers {
		users = append(users, user{id: "user_" + strconv.Itoa(u), taste: r.taste(u)})
	}
	created := 0
	for range tokens {
		var u user
		if len(users) == 0 || rng.Float64() < r.cfg.NewUsers {
			n := w + created*r.cfg.Workers
			created++
			u = user{id: fmt.Sprintf("sim-%s-%d", r.run, n), taste: r.taste(r.cfg.Users + n%newUserSlots)}
			users = append(users, u)
			r.count(func(s *Summary) { s.NewUsers++ })
		} else {
			u = users[rng.IntN(len(users))]
		}
		r.visit(ctx, rng, u)
	}
}

// visit is one request of u and what u does with the list.
func (r *runner) visit(ctx context.Context, rng *rand.Rand, u user) {
	list, err := r.api.recommend(ctx, u.id, r.cfg.ListSize)
	if err != nil {
		r.fail(ctx, err)
		return
	}
	genres := make([][]string, len(list.Items))
	for i, it := range list.Items {
		genres[i] = r.genres[it.MovieID]
	}
	pick := r.cfg.Model.Choose(rng, u.taste, genres)
	r.count(func(s *Summary) {
		s.Lists++
		c := s.ByTier[list.Tier]
		c.Lists++
		if pick >= 0 {
			s.Clicked++
			c.Clicked++
		}
		s.ByTier[list.Tier] = c
	})
	if pick < 0 {
		return
	}
	movie := list.Items[pick].MovieID
	types := append([]domain.EventType{domain.EventClick}, r.cfg.Model.React(rng, u.taste, genres[pick])...)
	events := make([]event, len(types))
	for i, t := range types {
		events[i] = event{EventID: fmt.Sprintf("sim-%s-%s-%s", r.run, list.RecLogID, t), UserID: u.id, MovieID: movie,
			Type: string(t), RecLogID: list.RecLogID}
	}
	// A click already decided is sent even when the run ends meanwhile,
	// so the summary and the server agree on what was clicked.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.api.send(sctx, events); err != nil {
		r.fail(sctx, err)
		return
	}
	r.count(func(s *Summary) { s.Events += len(events) })
}

// taste is user u's hidden taste.
func (r *runner) taste(u int) Taste {
	t, _ := r.gen.Taste(u)
	return Taste{Genres: t.Genres, Weights: t.Weights}
}

func (r *runner) count(fn func(*Summary)) {
	r.mu.Lock()
	fn(&r.sum)
	r.mu.Unlock()
}

// fail counts a failed request; one cut short by the end of the run is
// not a failure.
func (r *runner) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	r.count(func(s *Summary) { s.Failures++; s.LastError = err.Error() })
}

// snapshot copies the summary; r.mu must be held.
func (r *runner) snapshot() Summary {
	s := r.sum
	s.ByTier = maps.Clone(r.sum.ByTier)
	return s
}
