package synth_test

import (
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// TestShape checks the two structures recommenders feed on, with the
// default config: popularity skew on a large catalog, and taste that
// follows the users' hidden favourite genres.
func TestShape(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Users = 5000
	movies := synth.Movies(20000, 1)
	g := newGen(t, cfg, movies)
	s := measure(g, movies, collect(t, g))
	t.Logf("%+v", s)
	if s.events < 190_000 || s.users != cfg.Users {
		t.Errorf("%d events from %d users, want about 200K from %d", s.events, s.users, cfg.Users)
	}
	// Zipf(1) over 20K movies puts ~78% of the appeal on the top decile;
	// without-replacement picks flatten that a little.
	if s.topDecileShare < 0.55 {
		t.Errorf("top 10%% of movies get %.2f of events, want > 0.55", s.topDecileShare)
	}
	if s.bottomHalf > 0.10 {
		t.Errorf("bottom half of movies get %.2f of events, want < 0.10", s.bottomHalf)
	}
	checkTaste(t, s)
}

// TestTasteOnDemoSizedCatalog checks taste on a catalog as small as the
// demo one, where users see a large part of it and could blur their taste.
func TestTasteOnDemoSizedCatalog(t *testing.T) {
	t.Parallel()
	movies := synth.Movies(180, 5)
	g := newGen(t, synth.DefaultConfig(), movies)
	s := measure(g, movies, collect(t, g))
	t.Logf("%+v", s)
	checkTaste(t, s)
}

func checkTaste(t *testing.T, s shape) {
	t.Helper()
	if s.favPositive < 0.8 || s.favPositive < 2*s.favCatalog {
		t.Errorf("%.2f of positive events are in favourite genres, which hold %.2f of the catalog: want ≥ 0.8 and twice the catalog share",
			s.favPositive, s.favCatalog)
	}
	// Most picks are in favourite genres, so most dislikes are too; but a
	// favourite-genre pick must be disliked less often than another.
	if s.favDislike > 0.9*s.favView {
		t.Errorf("%.2f of dislikes are in favourite genres, against %.2f of picks: want clearly fewer", s.favDislike, s.favView)
	}
}

// TestNoGenreAffinity checks that GenreAffinity 0 removes taste: positive
// events then fall in favourite genres about as often as the catalog does
// (a little more, since popular movies are not spread evenly).
func TestNoGenreAffinity(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Users = 1000
	cfg.GenreAffinity = 0
	movies := synth.Movies(2000, 2)
	g := newGen(t, cfg, movies)
	s := measure(g, movies, collect(t, g))
	t.Logf("%+v", s)
	if s.favPositive > 1.25*s.favCatalog {
		t.Errorf("favourite share %.2f vs catalog %.2f: taste leaks without genre affinity", s.favPositive, s.favCatalog)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	cfg := smallConfig()
	movies := synth.Movies(300, 4)
	g := newGen(t, cfg, movies)
	inCatalog := map[string]bool{}
	for _, m := range movies {
		for _, genre := range m.Genres {
			inCatalog[genre] = true
		}
	}
	users := g.Users()
	if len(users) != cfg.Users {
		t.Fatalf("%d users, want %d", len(users), cfg.Users)
	}
	sizes := map[int]int{}
	for u, ut := range users {
		if want := domain.UserID("user_" + strconv.Itoa(u)); ut.User != want {
			t.Fatalf("user %d is %q, want %q", u, ut.User, want)
		}
		if got, ok := g.Taste(u); !ok || !reflect.DeepEqual(got, ut) {
			t.Fatalf("Taste(%d) = %+v, %v; Users()[%d] = %+v", u, got, ok, u, ut)
		}
		sizes[len(ut.Genres)]++
		if len(ut.Genres) != len(ut.Weights) || ut.Events < 1 {
			t.Fatalf("%s: malformed taste %+v", ut.User, ut)
		}
		var sum float64
		for k, genre := range ut.Genres {
			if !inCatalog[genre] || slices.Index(ut.Genres, genre) != k {
				t.Fatalf("%s: favourite %q is unknown or repeated", ut.User, genre)
			}
			if k > 0 && ut.Weights[k] > ut.Weights[k-1] {
				t.Fatalf("%s: weights %v not strongest first", ut.User, ut.Weights)
			}
			sum += ut.Weights[k]
		}
		if sum < 0.999 || sum > 1.001 {
			t.Fatalf("%s: weights %v sum to %g", ut.User, ut.Weights, sum)
		}
	}
	for n := 1; n <= synth.MaxFavourites; n++ {
		if sizes[n] == 0 {
			t.Errorf("no user with %d favourite genres: %v", n, sizes)
		}
	}
	for _, u := range []int{-1, cfg.Users} {
		if _, ok := g.Taste(u); ok {
			t.Errorf("Taste(%d) ok, want false", u)
		}
	}
}

func TestMovies(t *testing.T) {
	t.Parallel()
	movies := synth.Movies(3000, 8)
	if len(movies) != 3000 {
		t.Fatalf("%d movies, want 3000", len(movies))
	}
	if !reflect.DeepEqual(movies, synth.Movies(3000, 8)) {
		t.Error("Movies is not deterministic")
	}
	if !reflect.DeepEqual(movies[:100], synth.Movies(100, 8)) {
		t.Error("a longer catalog does not extend a shorter one")
	}
	if reflect.DeepEqual(movies[:100], synth.Movies(100, 9)) {
		t.Error("a different seed gave the same catalog")
	}
	if synth.Movies(0, 1) != nil || synth.Movies(-3, 1) != nil {
		t.Error("Movies(n ≤ 0) is not empty")
	}
	perGenre := map[string]int{}
	for i, m := range movies {
		n := strconv.Itoa(i + 1)
		if err := m.Validate(); err != nil {
			t.Fatalf("movie %d: %v", i, err)
		}
		if m.ID != domain.MovieID("m"+n) || m.Title != "Synthetic Movie "+n {
			t.Fatalf("movie %d is %q %q", i, m.ID, m.Title)
		}
		if m.Year < 1950 || m.Year > 2025 {
			t.Fatalf("movie %d: year %d", i, m.Year)
		}
		if len(m.Genres) < 1 || len(m.Genres) > 3 {
			t.Fatalf("movie %d: %d genres", i, len(m.Genres))
		}
		last := -1
		for _, genre := range m.Genres {
			k := slices.Index(synth.Genres, genre)
			if k <= last {
				t.Fatalf("movie %d: genres %v not distinct members of Genres in order", i, m.Genres)
			}
			last = k
			perGenre[genre]++
		}
	}
	for _, genre := range synth.Genres {
		if perGenre[genre] < 30 {
			t.Errorf("genre %s has only %d of 3000 movies", genre, perGenre[genre])
		}
	}
}

// BenchmarkEach measures generation throughput on a 20K-movie catalog,
// the hot path of 10M-event scale runs.
func BenchmarkEach(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Users = 10_000
	g := newGen(b, cfg, synth.Movies(20_000, 1))
	var events int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := g.Each(func(domain.Interaction) error {
			events++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkEachRangeParallel shards users over GOMAXPROCS goroutines, as a
// scale run feeding a parallel consumer would.
func BenchmarkEachRangeParallel(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Users = 10_000
	g := newGen(b, cfg, synth.Movies(20_000, 1))
	shards := runtime.GOMAXPROCS(0)
	var events atomic.Int64
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for s := range shards {
			wg.Go(func() {
				n := int64(0)
				from, to := s*cfg.Users/shards, (s+1)*cfg.Users/shards
				if err := g.EachRange(from, to, func(domain.Interaction) error {
					n++
					return nil
				}); err != nil {
					b.Error(err)
				}
				events.Add(n)
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(events.Load())/b.Elapsed().Seconds(), "events/s")
}
