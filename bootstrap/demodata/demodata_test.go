package demodata

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

var slug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestMovies(t *testing.T) {
	t.Parallel()
	movies, err := Movies()
	if err != nil {
		t.Fatalf("Movies: %v", err)
	}
	if len(movies) < 150 {
		t.Fatalf("%d movies, want at least 150", len(movies))
	}
	ids := map[domain.MovieID]bool{}
	perGenre := map[string]int{}
	titles := map[string]bool{}
	for _, m := range movies {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", m.ID, err)
		}
		if ids[m.ID] {
			t.Errorf("duplicate id %s", m.ID)
		}
		ids[m.ID] = true
		if !slug.MatchString(string(m.ID)) || !strings.HasSuffix(string(m.ID), "-"+strconv.Itoa(m.Year)) {
			t.Errorf("id %q is not a slug ending in the year %d", m.ID, m.Year)
		}
		if m.Year < 1900 || m.Year > 2025 || strings.TrimSpace(m.Title) != m.Title {
			t.Errorf("%s: year %d, title %q", m.ID, m.Year, m.Title)
		}
		if len(m.Genres) < 1 || len(m.Genres) > 3 {
			t.Errorf("%s: %d genres, want 1 to 3", m.ID, len(m.Genres))
		}
		for k, g := range m.Genres {
			if !slices.Contains(synth.Genres, g) || slices.Index(m.Genres, g) != k {
				t.Errorf("%s: genre %q unknown or repeated", m.ID, g)
			}
			perGenre[g]++
		}
		titles[m.Title] = true
	}
	// Tastes are only distinguishable if each cluster offers enough films
	// to fill a recommendation list beyond what a user has seen.
	for _, cluster := range [][]string{
		{"Sci-Fi"}, {"Animation", "Family"}, {"Horror"}, {"Romance"},
		{"Crime"}, {"Comedy"}, {"Action"}, {"Drama"},
	} {
		n := 0
		for _, m := range movies {
			if slices.ContainsFunc(m.Genres, func(g string) bool { return slices.Contains(cluster, g) }) {
				n++
			}
		}
		if n < 12 {
			t.Errorf("cluster %v has %d films, want at least 12", cluster, n)
		}
	}
	// Quoted titles survive CSV parsing whole.
	for _, title := range []string{"Monsters, Inc.", "The Good, the Bad and the Ugly", "Crouching Tiger, Hidden Dragon", "Amélie"} {
		if !titles[title] {
			t.Errorf("title %q missing", title)
		}
	}
	t.Logf("%d movies; per genre %v", len(movies), perGenre)
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	const head = "id,title,year,genres\n"
	tests := []struct {
		name, csv, want string
	}{
		{"bad header", "id,name,year,genres\n", "header"},
		{"missing header", "", "header"},
		{"short row", head + "a-2000,A,2000\n", "wrong number of fields"},
		{"year", head + "a-2000,A,two thousand,Drama\n", `line 2: year "two thousand"`},
		{"empty title", head + "a-2000, ,2000,Drama\n", "line 2"},
		{"bad id", head + "a 2000,A,2000,Drama\n", "line 2"},
		{"unknown genre", head + "a-2000,A,2000,Drama|Musical\n", `genre "Musical"`},
		{"duplicate", head + "a-2000,A,2000,Drama\nb-2001,B,2001,Drama\na-2000,A again,2000,Comedy\n", `line 4: duplicate id "a-2000" (first on line 2)`},
		{"bad quoting", head + "a-2000,\"A,2000,Drama\n", "demodata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	got, err := parse(strings.NewReader("id,title,year,genres\nx-1999,\"Comma, Title\",1999,Drama|War\ny-2000,No Genres,2000,\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Movie{
		{ID: "x-1999", Title: "Comma, Title", Year: 1999, Genres: []string{"Drama", "War"}},
		{ID: "y-2000", Title: "No Genres", Year: 2000},
	}
	if !slices.EqualFunc(got, want, func(a, b domain.Movie) bool {
		return a.ID == b.ID && a.Title == b.Title && a.Year == b.Year && slices.Equal(a.Genres, b.Genres)
	}) {
		t.Fatalf("parse = %+v, want %+v", got, want)
	}
}

// TestDemoHistory checks that the demo catalog feeds the generator the
// embedded mode uses to give a newcomer meaningful recommendations.
func TestDemoHistory(t *testing.T) {
	t.Parallel()
	movies, err := Movies()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(synth.DefaultConfig(), movies)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	touched := map[domain.MovieID]bool{}
	if err := g.Each(func(in domain.Interaction) error {
		events++
		touched[in.MovieID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if events < 50_000 || len(touched) != len(movies) {
		t.Errorf("%d events touching %d of %d movies", events, len(touched), len(movies))
	}
}
