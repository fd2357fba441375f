package movielens

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

// readBack opens dir and returns its movies and interactions.
func readBack(t *testing.T, dir string) (*Dataset, []domain.Movie, []domain.Interaction) {
	t.Helper()
	d, err := Open(dir, WithStrict())
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout() != LayoutMarquee {
		t.Fatalf("layout = %s, want %s", d.Layout(), LayoutMarquee)
	}
	movies, err := d.Movies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d, movies, collect(t, d)
}

func TestSynthRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Users = 150
	movies := synth.Movies(300, 7)
	g, err := synth.New(cfg, movies)
	if err != nil {
		t.Fatal(err)
	}
	var want []domain.Interaction
	if err := g.Each(func(ev domain.Interaction) error { want = append(want, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := Write(context.Background(), dir, movies, g.Each)
	if err != nil {
		t.Fatal(err)
	}
	var ratings int64
	types := map[domain.EventType]bool{}
	for _, ev := range want {
		types[ev.Type] = true
		if ev.Type == domain.EventRating {
			ratings++
		}
	}
	if st.Movies != 300 || st.Events != int64(len(want)) || st.Ratings != ratings || len(types) != len(domain.EventTypes) {
		t.Fatalf("write stats = %+v for %d events (%d ratings, types %v)", st, len(want), ratings, types)
	}

	d, gotMovies, got := readBack(t, dir)
	if !reflect.DeepEqual(gotMovies, movies) {
		t.Errorf("movies differ: first %+v, want %+v", gotMovies[0], movies[0])
	}
	if len(got) != len(want) {
		t.Fatalf("read %d interactions, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("interaction %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := d.Stats(); s.Interactions.Skipped != 0 || s.Movies.Skipped != 0 {
		t.Errorf("stats = %+v, want nothing skipped", s)
	}

	// ratings.csv is the MovieLens view: header, whole seconds, one line per rating.
	f, err := os.Open(filepath.Join(dir, FileRatings))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(recs)) != ratings+1 || strings.Join(recs[0], ",") != ratingsHeader || !strings.Contains(recs[1][2], ".") {
		t.Errorf("ratings.csv has %d records (first %v, %v), want %d ratings", len(recs), recs[0], recs[1], ratings)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestWriteQuotesAndKeepsEveryField(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	at := time.Date(2026, 3, 1, 10, 30, 0, 123456789, time.UTC)
	movies := []domain.Movie{
		{ID: "tt0001", Title: `Comma, "Quotes" and` + "\nnewline", Year: 2020, Genres: []string{"Drama", "Children's"}},
		{ID: "tt0002", Title: "No Year Or Genres"},
	}
	events := []domain.Interaction{
		{EventID: "e1", UserID: "u1", MovieID: "tt0001", Type: domain.EventView, Value: f(3600), Weight: 1, Time: at, IngestedAt: at, RecLogID: "rl-1"},
		{EventID: "e2", UserID: "u1", MovieID: "tt0002", Type: domain.EventRating, Value: f(3.5), Weight: 3.5, Time: at.Add(time.Second), IngestedAt: at.Add(time.Second)},
		{EventID: "e3", UserID: "u2", MovieID: "tt0002", Type: domain.EventDislike, Weight: -4, Time: at.Add(time.Minute), IngestedAt: at.Add(time.Minute)},
	}
	dir := t.TempDir()
	each := func(fn func(domain.Interaction) error) error {
		for _, ev := range events {
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := Write(context.Background(), dir, movies, each); err != nil {
		t.Fatal(err)
	}
	_, gotMovies, got := readBack(t, dir)
	if !reflect.DeepEqual(gotMovies, movies) {
		t.Errorf("movies = %#v, want %#v", gotMovies, movies)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("interactions =\n%+v\nwant\n%+v", got, events)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileRatings))
	if err != nil {
		t.Fatal(err)
	}
	if want := ratingsHeader + "\nu1,tt0002,3.5,1772361001\n"; string(raw) != want {
		t.Errorf("ratings.csv = %q, want %q", raw, want)
	}
}

func TestWriteFailures(t *testing.T) {
	t.Parallel()
	none := func(func(domain.Interaction) error) error { return nil }
	dir := t.TempDir()
	bad := []domain.Movie{{ID: "m1", Title: "Pipe", Genres: []string{"A|B"}}}
	if _, err := Write(context.Background(), dir, bad, none); err == nil {
		t.Error("a genre with '|' was written")
	}
	boom := errors.New("boom")
	failing := func(fn func(domain.Interaction) error) error {
		ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := fn(domain.Interaction{EventID: "e", UserID: "u", MovieID: "m1", Type: domain.EventView, Time: ts}); err != nil {
			return err
		}
		return boom
	}
	if _, err := Write(context.Background(), dir, nil, failing); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, dir, nil, failing); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %d files", len(entries))
	}
}
