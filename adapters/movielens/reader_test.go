package movielens

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// testNow is the import clock of the fixture tests.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func openFixture(t *testing.T, dir string, opts ...Option) *Dataset {
	t.Helper()
	d, err := Open(fixtureDir(t, dir), append([]Option{WithNow(func() time.Time { return testNow })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func collect(t *testing.T, d *Dataset) []domain.Interaction {
	t.Helper()
	var got []domain.Interaction
	if err := d.EachInteraction(context.Background(), func(ev domain.Interaction) error {
		got = append(got, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// brief is the part of an interaction the fixture tests check.
type brief struct {
	EventID, User, Movie string
	Value, Weight        float64
	Unix                 int64
}

func briefs(evs []domain.Interaction) []brief {
	out := make([]brief, len(evs))
	for i, ev := range evs {
		out[i] = brief{ev.EventID, string(ev.UserID), string(ev.MovieID), *ev.Value, ev.Weight, ev.Time.Unix()}
	}
	return out
}

func errorLines(c Counts) []int64 {
	var lines []int64
	for _, e := range c.Errors {
		lines = append(lines, e.Line)
	}
	return lines
}

func checkCounts(t *testing.T, what string, c Counts, file string, records, accepted int64, lines []int64) {
	t.Helper()
	if c.File != file || c.Records != records || c.Accepted != accepted || c.Skipped != records-accepted {
		t.Errorf("%s counts = %+v, want file %s, %d records, %d accepted", what, c, file, records, accepted)
	}
	if got := errorLines(c); !slices.Equal(got, lines) {
		t.Errorf("%s error lines = %v, want %v (errors %v)", what, got, lines, c.Errors)
	}
}

func TestOpenDetectsLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		files []string
		want  Layout
	}{
		{[]string{"u.data", "u.item", "README"}, Layout100K},
		{[]string{"u.data"}, Layout100K},
		{[]string{"ratings.csv", "movies.csv", "links.csv", "tags.csv"}, LayoutLatest},
		{[]string{"ratings.csv", "movies.csv", "events.csv"}, LayoutMarquee},
		{[]string{"README"}, ""},
		{[]string{"u.data", "ratings.csv"}, ""},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, f := range tt.files {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := Open(dir)
		switch {
		case tt.want == "" && !errors.Is(err, ErrUnknownLayout):
			t.Errorf("%v: err = %v, want ErrUnknownLayout", tt.files, err)
		case tt.want != "" && (err != nil || d.Layout() != tt.want):
			t.Errorf("%v: layout %v (%v), want %s", tt.files, d, err, tt.want)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing directory accepted")
	}
	for _, ns := range []string{"", "ml_x", "ml-x", "a b", "0123456789012345678901234567890123"} {
		if _, err := Open(fixtureDir(t, "ml100k"), WithNamespace(ns)); err == nil {
			t.Errorf("namespace %q accepted", ns)
		}
	}
}

func TestRead100K(t *testing.T) {
	t.Parallel()
	d := openFixture(t, "ml100k")
	movies, err := d.Movies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Movie{
		{ID: "ml_m10", Title: "Café Lumière", Year: 2003, Genres: []string{"Comedy", "Drama"}},
		{ID: "ml_m20", Title: "Schoolroom Mystery, The", Year: 1961, Genres: []string{"Children", "Drama", "Mystery"}},
		{ID: "ml_m30", Title: "Noir Night", Year: 1950, Genres: []string{"Crime", "Film-Noir"}},
		{ID: "ml_m60", Title: "unknown"},
	}
	if !reflect.DeepEqual(movies, want) {
		t.Errorf("movies =\n%+v\nwant\n%+v", movies, want)
	}
	checkCounts(t, "movies", d.Stats().Movies, "u.item", 7, 4, []int64{4, 5, 7})

	evs := collect(t, d)
	wantEvs := []brief{
		{"ml-1-10-881250949", "ml_u1", "ml_m10", 4, 4, 881250949},
		{"ml-1-20-881250950", "ml_u1", "ml_m20", 5, 5, 881250950},
		{"ml-2-10-891717742", "ml_u2", "ml_m10", 3, 3, 891717742},
		{"ml-2-30-878887116", "ml_u2", "ml_m30", 1, 1, 878887116},
		{"ml-3-30-881250960", "ml_u3", "ml_m30", 2.5, 2.5, 881250960},
		{"ml-7-60-881250961", "ml_u7", "ml_m60", 2, 2, 881250961},
	}
	if got := briefs(evs); !reflect.DeepEqual(got, wantEvs) {
		t.Errorf("interactions =\n%+v\nwant\n%+v", got, wantEvs)
	}
	for _, ev := range evs {
		if ev.Type != domain.EventRating || !ev.IngestedAt.Equal(ev.Time) || ev.Time.Location() != time.UTC || ev.RecLogID != "" {
			t.Errorf("interaction %+v: want a UTC rating ingested at its own time", ev)
		}
	}
	st := d.Stats()
	checkCounts(t, "interactions", st.Interactions, "u.data", 10, 6, []int64{5, 6, 7, 8})
	causes := []error{ErrMalformed, domain.ErrInvalid, domain.ErrInvalid, ErrMalformed}
	for i, e := range st.Interactions.Errors {
		if !errors.Is(e, causes[i]) {
			t.Errorf("error %v: want it to wrap %v", e, causes[i])
		}
	}
	if st.Layout != Layout100K {
		t.Errorf("layout = %s", st.Layout)
	}
}

func TestReadLatest(t *testing.T) {
	t.Parallel()
	d := openFixture(t, "latest")
	movies, err := d.Movies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Movie{
		{ID: "ml_m1", Title: "Quiet Harbour, The", Year: 1994, Genres: []string{"Drama", "Romance"}},
		{ID: "ml_m2", Title: `She Said "Yes"`, Year: 2001, Genres: []string{"Comedy"}},
		{ID: "ml_m3", Title: "Two Lines\nOf Title", Year: 1999, Genres: []string{"Drama"}},
		{ID: "ml_m6", Title: "Pilot Episodes", Year: 2006},
		{ID: "ml_m7", Title: "Über Kinder", Year: 2010, Genres: []string{"Children", "Animation"}},
		{ID: "ml_m10", Title: "Spaced Out", Year: 1980, Genres: []string{"Sci-Fi"}},
	}
	if !reflect.DeepEqual(movies, want) {
		t.Errorf("movies =\n%#v\nwant\n%#v", movies, want)
	}
	checkCounts(t, "movies", d.Stats().Movies, "movies.csv", 10, 6, []int64{8, 9, 10, 11})

	wantEvs := []brief{
		{"ml-1-1-1100000000", "ml_u1", "ml_m1", 4, 4, 1100000000},
		{"ml-1-2-1100000100", "ml_u1", "ml_m2", 3.5, 3.5, 1100000100},
		{"ml-2-1-1200000000", "ml_u2", "ml_m1", 0.5, 0.5, 1200000000},
		{"ml-2-7-1300000000", "ml_u2", "ml_m7", 5, 5, 1300000000},
		{"ml-3-2-789652009", "ml_u3", "ml_m2", 4, 4, 789652009},
		{"ml-6-3-1100000200", "ml_u6", "ml_m3", 3, 3, 1100000200},
	}
	if got := briefs(collect(t, d)); !reflect.DeepEqual(got, wantEvs) {
		t.Errorf("interactions =\n%+v\nwant\n%+v", got, wantEvs)
	}
	checkCounts(t, "interactions", d.Stats().Interactions, "ratings.csv", 11, 6, []int64{6, 8, 9, 10, 11})
}

func TestStrictStopsAtFirstBadRecord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dir        string
		movieLine  int64
		ratingLine int64
		before     int // interactions delivered before the bad record
	}{{"ml100k", 4, 5, 4}, {"latest", 8, 6, 4}} {
		d := openFixture(t, tt.dir, WithStrict())
		var le *LineError
		if _, err := d.Movies(context.Background()); !errors.As(err, &le) || le.Line != tt.movieLine {
			t.Errorf("%s: Movies err = %v, want a LineError at line %d", tt.dir, err, tt.movieLine)
		}
		n := 0
		err := d.EachInteraction(context.Background(), func(domain.Interaction) error { n++; return nil })
		if !errors.As(err, &le) || le.Line != tt.ratingLine || n != tt.before {
			t.Errorf("%s: EachInteraction err = %v after %d interactions, want a LineError at line %d", tt.dir, err, n, tt.ratingLine)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	w := domain.DefaultWeights()
	w.Rating = 2
	imported := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := openFixture(t, "latest", WithNamespace("ml25m"), WithWeights(w), WithIngestedAt(imported), WithMaxErrors(2))
	evs := collect(t, d)
	ev := evs[1]
	if ev.EventID != "ml25m-1-2-1100000100" || ev.UserID != "ml25m_u1" || ev.MovieID != "ml25m_m2" || ev.Weight != 7 || !ev.IngestedAt.Equal(imported) {
		t.Errorf("interaction = %+v", ev)
	}
	if c := d.Stats().Interactions; c.Skipped != 5 || len(c.Errors) != 2 {
		t.Errorf("counts = %+v, want 5 skipped and 2 errors kept", c)
	}
	// An import clock before the ratings makes them future events.
	d = openFixture(t, "latest", WithNow(func() time.Time { return time.Unix(1150000000, 0) }))
	if evs := collect(t, d); len(evs) != 4 {
		t.Errorf("with the clock in 2006: %d interactions, want 4", len(evs))
	}
}

// TestPositiveMinRating: with the threshold at 4, the ratings below it
// are still imported — the movie stays seen — but weigh 0.
func TestPositiveMinRating(t *testing.T) {
	t.Parallel()
	w := domain.DefaultWeights()
	w.PositiveMinRating = 4
	d := openFixture(t, "latest", WithWeights(w))
	want := []brief{
		{"ml-1-1-1100000000", "ml_u1", "ml_m1", 4, 4, 1100000000},
		{"ml-1-2-1100000100", "ml_u1", "ml_m2", 3.5, 0, 1100000100},
		{"ml-2-1-1200000000", "ml_u2", "ml_m1", 0.5, 0, 1200000000},
		{"ml-2-7-1300000000", "ml_u2", "ml_m7", 5, 5, 1300000000},
		{"ml-3-2-789652009", "ml_u3", "ml_m2", 4, 4, 789652009},
		{"ml-6-3-1100000200", "ml_u6", "ml_m3", 3, 0, 1100000200},
	}
	evs := collect(t, d)
	if got := briefs(evs); !reflect.DeepEqual(got, want) {
		t.Errorf("interactions =\n%+v\nwant\n%+v", got, want)
	}
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", ev.EventID, err)
		}
	}
}

func TestEachInteractionStops(t *testing.T) {
	t.Parallel()
	d := openFixture(t, "latest")
	stop := errors.New("stop")
	n := 0
	if err := d.EachInteraction(context.Background(), func(domain.Interaction) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d calls, want stop after 1", err, n)
	}
}

func TestHeaderMismatchFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileRatings), []byte("movieId,userId,rating,timestamp\n1,1,4,1100000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.EachInteraction(context.Background(), func(domain.Interaction) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed for a wrong header", err)
	}
	if _, err := d.Movies(context.Background()); err == nil {
		t.Error("missing movies.csv accepted")
	}
}

func TestSplitTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		title string
		year  int
	}{
		{"Toy Story (1995)", "Toy Story", 1995},
		{"  Heat (1995) ", "Heat", 1995},
		{"(500) Days of Summer (2009)", "(500) Days of Summer", 2009},
		{"Fawlty Towers (1975-1979)", "Fawlty Towers", 1975},
		{"Show (2006–2007)", "Show", 2006},
		{"Show (2006-)", "Show", 2006},
		{"Babylon 5", "Babylon 5", 0},
		{"Land Before Time III (1995) (V)", "Land Before Time III (1995) (V)", 0},
		{"(1995)", "(1995)", 0},
		{"Ancient (1066)", "Ancient (1066)", 0},
		{"Odd (19x5)", "Odd (19x5)", 0},
		{"Odd (1995-96)", "Odd (1995-96)", 0},
		{"Odd (1995", "Odd (1995", 0},
	}
	for _, tt := range tests {
		if title, year := splitTitle(tt.in); title != tt.title || year != tt.year {
			t.Errorf("splitTitle(%q) = %q, %d; want %q, %d", tt.in, title, year, tt.title, tt.year)
		}
	}
	if got := releaseYear("27-Jun-1997"); got != 1997 {
		t.Errorf("releaseYear = %d", got)
	}
	if got := decodeLatin1([]byte("Mis\xe9rables")); got != "Misérables" {
		t.Errorf("decodeLatin1 = %q", got)
	}
	if got := decodeLatin1([]byte("Misérables")); got != "Misérables" {
		t.Errorf("decodeLatin1 of UTF-8 = %q", got)
	}
}
