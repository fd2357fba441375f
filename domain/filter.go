package domain

import (
	"fmt"
	"strings"
)

// Limits on a list filter, so that one request cannot make a query of
// unbounded size.
const (
	MaxFilterGenres  = 20
	MaxFilterExclude = 500
)

// Filter narrows a list the client asked for: movies in Exclude never
// appear, and when Genres is set only movies with at least one of them
// (compared without regard to case) do. The zero Filter keeps everything.
//
// A filter is the client's: lists computed under one are never cached, so
// that a cached list is always the user's whole list.
type Filter struct {
	Genres  []string
	Exclude MovieSet
}

// Empty reports whether f keeps every movie.
func (f Filter) Empty() bool { return len(f.Genres) == 0 && len(f.Exclude) == 0 }

// ByGenre reports whether f narrows by genre (and so needs each movie's
// genres from the catalog to decide).
func (f Filter) ByGenre() bool { return len(f.Genres) > 0 }

// Keeps reports whether m passes f.
func (f Filter) Keeps(m Movie) bool {
	return !f.Exclude.Has(m.ID) && f.GenreOf(m.Genres)
}

// GenreOf reports whether a movie with genres passes f's genre filter:
// always when f has none, else when one of genres is one of f's.
func (f Filter) GenreOf(genres []string) bool {
	if len(f.Genres) == 0 {
		return true
	}
	for _, g := range genres {
		for _, want := range f.Genres {
			if strings.EqualFold(g, want) {
				return true
			}
		}
	}
	return false
}

// LowerGenres returns f's genres in lower case, as the adapters compare
// them.
func (f Filter) LowerGenres() []string {
	out := make([]string, len(f.Genres))
	for i, g := range f.Genres {
		out[i] = strings.ToLower(g)
	}
	return out
}

// Union returns a set holding every movie of the sets given (a new one;
// nil sets are empty).
func Union(sets ...MovieSet) MovieSet {
	n := 0
	for _, s := range sets {
		n += len(s)
	}
	out := make(MovieSet, n)
	for _, s := range sets {
		for id := range s {
			out[id] = struct{}{}
		}
	}
	return out
}

// ParseGenres reads the genre filter of a request: each value may list
// several genres separated by commas (so a genre holding a comma cannot
// be asked for), surrounding spaces are dropped and a genre repeated in
// another case counts once. Field errors name "genre".
func ParseGenres(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, g := range strings.Split(v, ",") {
			g = strings.TrimSpace(g)
			if err := CheckText(g); err != nil {
				return nil, &FieldError{Field: "genre", Message: err.Error()}
			}
			if g == "" || len(g) > MaxGenreLength {
				return nil, &FieldError{Field: "genre", Message: fmt.Sprintf("each genre must be 1 to %d bytes", MaxGenreLength), Value: g}
			}
			if k := strings.ToLower(g); !seen[k] {
				seen[k] = true
				out = append(out, g)
			}
		}
	}
	if len(out) > MaxFilterGenres {
		return nil, &FieldError{Field: "genre", Message: fmt.Sprintf("at most %d genres", MaxFilterGenres), Value: len(out)}
	}
	return out, nil
}

// ParseExclude reads the exclusion filter of a request: movie ids, each
// value possibly listing several separated by commas. Field errors name
// "exclude".
func ParseExclude(values []string) (MovieSet, error) {
	var out MovieSet
	for _, v := range values {
		for _, id := range strings.Split(v, ",") {
			if err := checkID(id); err != nil {
				return nil, &FieldError{Field: "exclude", Message: "each movie id " + err.Error(), Value: id}
			}
			if out == nil {
				out = MovieSet{}
			}
			out[MovieID(id)] = struct{}{}
		}
	}
	if len(out) > MaxFilterExclude {
		return nil, &FieldError{Field: "exclude", Message: fmt.Sprintf("at most %d movie ids", MaxFilterExclude), Value: len(out)}
	}
	return out, nil
}
