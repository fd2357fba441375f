package synth_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*synth.Config)
		field  string // "" when the config is valid
	}{
		{"default", func(*synth.Config) {}, ""},
		{"one user", func(c *synth.Config) { c.Users = 1 }, ""},
		{"no genre affinity", func(c *synth.Config) { c.GenreAffinity = 0 }, ""},
		{"uniform popularity", func(c *synth.Config) { c.PopularityExponent = 0 }, ""},
		{"negative seed", func(c *synth.Config) { c.Seed = -42 }, ""},
		{"zero users", func(c *synth.Config) { c.Users = 0 }, "Users"},
		{"negative users", func(c *synth.Config) { c.Users = -1 }, "Users"},
		{"zero start", func(c *synth.Config) { c.Start = time.Time{} }, "Start"},
		{"start before 1995", func(c *synth.Config) { c.Start = time.Date(1994, 12, 31, 0, 0, 0, 0, time.UTC) }, "Start"},
		{"zero span", func(c *synth.Config) { c.Span = 0 }, "Span"},
		{"sub-second span", func(c *synth.Config) { c.Span = time.Millisecond }, "Span"},
		{"mean below one", func(c *synth.Config) { c.MeanEventsPerUser = 0.5 }, "MeanEventsPerUser"},
		{"mean NaN", func(c *synth.Config) { c.MeanEventsPerUser = math.NaN() }, "MeanEventsPerUser"},
		{"activity exponent 1", func(c *synth.Config) { c.ActivityExponent = 1 }, "ActivityExponent"},
		{"activity exponent inf", func(c *synth.Config) { c.ActivityExponent = math.Inf(1) }, "ActivityExponent"},
		{"negative popularity", func(c *synth.Config) { c.PopularityExponent = -0.1 }, "PopularityExponent"},
		{"huge popularity", func(c *synth.Config) { c.PopularityExponent = 11 }, "PopularityExponent"},
		{"negative affinity", func(c *synth.Config) { c.GenreAffinity = -1 }, "GenreAffinity"},
		{"affinity NaN", func(c *synth.Config) { c.GenreAffinity = math.NaN() }, "GenreAffinity"},
		{"zero weights", func(c *synth.Config) { c.Weights = domain.Weights{} }, "Weights.View"},
		{"positive dislike", func(c *synth.Config) { c.Weights.Dislike = 1 }, "Weights.Dislike"},
		{"infinite rating weight", func(c *synth.Config) { c.Weights.Rating = math.Inf(1) }, "Weights.Rating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := synth.DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, synth.ErrConfig) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.field+" ") {
				t.Errorf("Validate() = %q, want it to name %s", err, tt.field)
			}
			if _, err := synth.New(cfg, synth.Movies(10, 1)); !errors.Is(err, synth.ErrConfig) {
				t.Errorf("New() = %v, want the config error", err)
			}
		})
	}
}

func TestNewRejectsBadCatalogs(t *testing.T) {
	t.Parallel()
	good := synth.Movies(3, 1)
	tests := []struct {
		name   string
		movies []domain.Movie
		want   string
	}{
		{"nil", nil, "empty"},
		{"empty", []domain.Movie{}, "empty"},
		{"duplicate", append(slices.Clone(good), good[1]), "duplicate id \"m2\""},
		{"invalid", append(slices.Clone(good), domain.Movie{ID: "bad id", Title: "x"}), "movie 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := synth.New(synth.DefaultConfig(), tt.movies)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// smallConfig is fast enough for the race detector yet big enough for
// every kind of event and every code path (including catalog exhaustion).
func smallConfig() synth.Config {
	cfg := synth.DefaultConfig()
	cfg.Users = 300
	cfg.Seed = 99
	cfg.Start = time.Date(2024, 3, 1, 12, 0, 0, 500, time.UTC) // not on a microsecond
	return cfg
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	movies := synth.Movies(500, 3)
	a := collect(t, newGen(t, smallConfig(), movies))
	b := collect(t, newGen(t, smallConfig(), movies))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same config and catalog differ")
	}
	other := smallConfig()
	other.Seed++
	if c := collect(t, newGen(t, other, movies)); reflect.DeepEqual(a, c) {
		t.Fatal("a different seed gave the same stream")
	}
	// Disjoint ranges concatenate to the full stream, so scale runs can
	// shard users over goroutines.
	g := newGen(t, smallConfig(), movies)
	var parts []domain.Interaction
	for _, r := range [][2]int{{0, 0}, {0, 120}, {120, 121}, {121, 300}} {
		if err := g.EachRange(r[0], r[1], func(in domain.Interaction) error {
			parts = append(parts, in)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(a, parts) {
		t.Fatal("EachRange over a partition differs from Each")
	}
}

func TestEachRangeBounds(t *testing.T) {
	t.Parallel()
	g := newGen(t, smallConfig(), synth.Movies(20, 1))
	for _, r := range [][2]int{{-1, 2}, {0, 301}, {5, 4}} {
		if err := g.EachRange(r[0], r[1], func(domain.Interaction) error { return nil }); err == nil {
			t.Errorf("EachRange(%d, %d) = nil, want an error", r[0], r[1])
		}
	}
}

func TestEachStopsAtFirstError(t *testing.T) {
	t.Parallel()
	g := newGen(t, smallConfig(), synth.Movies(50, 1))
	stop := errors.New("stop")
	calls := 0
	err := g.Each(func(domain.Interaction) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Fatalf("Each = %v after %d calls, want stop after 10", err, calls)
	}
}

// TestEventsAreWhatTheServerWouldStore rebuilds every event through
// domain.NewInteraction and checks the per-user invariants of the model.
func TestEventsAreWhatTheServerWouldStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		movies []domain.Movie
		span   time.Duration
	}{
		{"synthetic catalog", synth.Movies(500, 3), 0},
		// Heavy users exhaust a tiny catalog: the exact-draw fallback and
		// the early stop must keep every invariant too.
		{"tiny catalog", synth.Movies(12, 3), 0},
		// Chains are longer than the whole history: times are clamped.
		{"one-second span", synth.Movies(500, 3), time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := smallConfig()
			if tc.span > 0 {
				cfg.Span = tc.span
			}
			events := collect(t, newGen(t, cfg, tc.movies))
			checkEvents(t, cfg, tc.movies, events)
		})
	}
}

func checkEvents(t *testing.T, cfg synth.Config, movies []domain.Movie, events []domain.Interaction) {
	t.Helper()
	catalog := map[domain.MovieID]bool{}
	for _, m := range movies {
		catalog[m.ID] = true
	}
	lo := cfg.Start
	hi := cfg.Start.Add(cfg.Span)
	ids := map[string]bool{}
	users := map[domain.UserID]bool{}
	types := map[domain.EventType]int{}
	var (
		user     domain.UserID
		last     time.Time
		current  domain.MovieID
		done     map[domain.MovieID]bool // movies whose chain has ended
		disliked bool
	)
	for n, in := range events {
		value := in.Value
		ts := in.Time
		want, err := domain.NewInteraction(domain.EventInput{
			EventID: in.EventID, UserID: string(in.UserID), MovieID: string(in.MovieID),
			Type: string(in.Type), Value: value, Timestamp: &ts,
		}, cfg.Weights, ts)
		if err != nil {
			t.Fatalf("event %d %+v does not validate: %v", n, in, err)
		}
		if !reflect.DeepEqual(in, want) {
			t.Fatalf("event %d = %+v, NewInteraction gives %+v", n, in, want)
		}
		types[in.Type]++
		if ids[in.EventID] {
			t.Fatalf("event %d: duplicate event id %q", n, in.EventID)
		}
		ids[in.EventID] = true
		if !catalog[in.MovieID] {
			t.Fatalf("event %d: movie %q is not in the catalog", n, in.MovieID)
		}
		if in.Time.Before(lo) || in.Time.After(hi) {
			t.Fatalf("event %d: time %s outside [%s, %s]", n, in.Time, lo, hi)
		}
		if in.Time.Location() != time.UTC || in.Time.Nanosecond()%1000 != 0 {
			t.Fatalf("event %d: time %s is not UTC whole microseconds", n, in.Time)
		}
		if in.Type == domain.EventRating && (*in.Value < 1 || *in.Value > 5 || *in.Value != math.Trunc(*in.Value)) {
			t.Fatalf("event %d: rating %g is not a whole 1–5 star rating", n, *in.Value)
		}
		if in.Type != domain.EventRating && in.Value != nil {
			t.Fatalf("event %d: %s carries a value", n, in.Type)
		}
		if in.UserID != user { // a new user's history begins
			if users[in.UserID] {
				t.Fatalf("event %d: user %s appears in two runs", n, in.UserID)
			}
			users[in.UserID] = true
			user, last, current, done = in.UserID, time.Time{}, "", map[domain.MovieID]bool{}
		}
		if in.Time.Before(last) {
			t.Fatalf("event %d: user %s goes back in time from %s to %s", n, user, last, in.Time)
		}
		last = in.Time
		if in.MovieID != current { // a new pick: a chain starts with a view of an unseen movie
			if done[in.MovieID] {
				t.Fatalf("event %d: user %s returns to %s after its chain ended", n, user, in.MovieID)
			}
			if in.Type != domain.EventView {
				t.Fatalf("event %d: chain on %s starts with %s, want view", n, in.MovieID, in.Type)
			}
			done[current] = true
			current, disliked = in.MovieID, false
			continue
		}
		if in.Type == domain.EventView {
			t.Fatalf("event %d: second view of %s by %s", n, in.MovieID, user)
		}
		if disliked {
			t.Fatalf("event %d: %s after a dislike of %s", n, in.Type, in.MovieID)
		}
		disliked = in.Type == domain.EventDislike
	}
	for _, typ := range domain.EventTypes {
		if types[typ] == 0 {
			t.Errorf("no %s events in %d", typ, len(events))
		}
	}
}

func TestActivityIsHeavyTailed(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Users = 3000
	g := newGen(t, cfg, synth.Movies(5000, 1))
	perUser := map[domain.UserID]int{}
	if err := g.Each(func(in domain.Interaction) error {
		perUser[in.UserID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 0, len(perUser))
	total := 0
	for _, ut := range g.Users() {
		if perUser[ut.User] != ut.Events {
			t.Fatalf("%s: %d events, taste says %d", ut.User, perUser[ut.User], ut.Events)
		}
		counts = append(counts, ut.Events)
		total += ut.Events
	}
	slices.Sort(counts)
	mean := float64(total) / float64(len(counts))
	median, top := counts[len(counts)/2], counts[len(counts)-1]
	t.Logf("mean %.1f, median %d, max %d", mean, median, top)
	if math.Abs(mean-cfg.MeanEventsPerUser) > 0.05*cfg.MeanEventsPerUser {
		t.Errorf("mean events per user %.1f, want about %g", mean, cfg.MeanEventsPerUser)
	}
	if float64(median) > 0.8*mean || float64(top) < 10*mean || counts[0] < 1 {
		t.Errorf("median %d, max %d, min %d: want a heavy tail around mean %.1f", median, top, counts[0], mean)
	}
	if float64(top) > synth.MaxActivityFactor*cfg.MeanEventsPerUser {
		t.Errorf("max %d exceeds the cap", top)
	}
}
