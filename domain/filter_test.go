package domain

import (
	"errors"
	"slices"
	"testing"
)

func TestParseGenres(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   []string
		bad    bool
	}{
		{"none", nil, nil, false},
		{"repeated", []string{"Horror", "Comedy"}, []string{"Horror", "Comedy"}, false},
		{"comma-separated", []string{"Horror, Comedy"}, []string{"Horror", "Comedy"}, false},
		{"both, with a repeat in another case", []string{"Horror,comedy", "COMEDY"}, []string{"Horror", "comedy"}, false},
		{"empty piece", []string{"Horror,"}, nil, true},
		{"empty value", []string{""}, nil, true},
		{"NUL", []string{"Hor\x00ror"}, nil, true},
		{"too long", []string{string(make([]byte, 51))}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGenres(tc.values)
			var fe *FieldError
			if tc.bad {
				if !errors.As(err, &fe) || fe.Field != "genre" {
					t.Fatalf("err = %v, want a field error on genre", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseGenres(%q) = %q, %v; want %q", tc.values, got, err, tc.want)
			}
		})
	}
	many := make([]string, MaxFilterGenres+1)
	for i := range many {
		many[i] = string(rune('a' + i))
	}
	if _, err := ParseGenres(many); err == nil {
		t.Fatal("more genres than the limit were accepted")
	}
}

func TestParseExclude(t *testing.T) {
	t.Parallel()
	got, err := ParseExclude([]string{"m1,m2", "m3"})
	if err != nil || len(got) != 3 || !got.Has("m2") {
		t.Fatalf("ParseExclude = %v, %v", got, err)
	}
	var fe *FieldError
	for _, bad := range [][]string{{"m 1"}, {"m1,,m2"}, {""}} {
		if _, err := ParseExclude(bad); !errors.As(err, &fe) || fe.Field != "exclude" {
			t.Fatalf("ParseExclude(%q): err = %v, want a field error on exclude", bad, err)
		}
	}
}

func TestFilterKeeps(t *testing.T) {
	t.Parallel()
	f := Filter{Genres: []string{"sci-fi", "Drama"}, Exclude: MovieSet{"x": {}}}
	for _, tc := range []struct {
		m    Movie
		want bool
	}{
		{Movie{ID: "a", Genres: []string{"Sci-Fi"}}, true},
		{Movie{ID: "b", Genres: []string{"Comedy", "drama"}}, true},
		{Movie{ID: "c", Genres: []string{"Comedy"}}, false},
		{Movie{ID: "d"}, false},
		{Movie{ID: "x", Genres: []string{"Drama"}}, false},
	} {
		if got := f.Keeps(tc.m); got != tc.want {
			t.Errorf("Keeps(%+v) = %v", tc.m, got)
		}
	}
	if !(Filter{}).Keeps(Movie{ID: "d"}) || !(Filter{}).Empty() || f.Empty() {
		t.Fatal("the zero filter must keep everything")
	}
}

func TestRankBySimilarity(t *testing.T) {
	t.Parallel()
	target := Movie{ID: "t", Year: 2000, Genres: []string{"Action", "Sci-Fi"}}
	ms := []Movie{
		{ID: "same-genres-far", Year: 1970, Genres: []string{"sci-fi", "action"}},
		{ID: "same-genres-near", Year: 2001, Genres: []string{"Action", "Sci-Fi"}},
		{ID: "half", Year: 2000, Genres: []string{"Action"}},
		{ID: "none-popular", Year: 2000, Genres: []string{"Drama"}},
		{ID: "none-unpopular", Year: 2000, Genres: []string{"Drama"}},
		{ID: "none-no-year", Genres: []string{"Drama"}},
	}
	pop := map[MovieID]float64{"none-popular": 5, "none-unpopular": 1, "same-genres-far": 9}
	cs := make([]SimilarCandidate, len(ms))
	for i, m := range ms {
		p, ok := pop[m.ID]
		if !ok {
			p = EmptyPopularityKey
		}
		cs[i] = NewSimilarCandidate(target, m, p)
	}
	got := RankBySimilarity(cs, 10)
	want := []MovieID{"same-genres-near", "same-genres-far", "half", "none-popular", "none-unpopular", "none-no-year"}
	var ids []MovieID
	for _, s := range got {
		ids = append(ids, s.MovieID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}
	if got[0].Score != 1 || got[2].Score != 0.5 {
		t.Fatalf("scores %+v", got)
	}
	if GenreJaccard(nil, nil) != 0 {
		t.Fatal("two empty genre sets must not be similar")
	}
}
