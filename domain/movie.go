package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on catalog metadata, so one bad import cannot bloat every list.
const (
	MaxTitleLength = 500
	MaxGenres      = 20
	MaxGenreLength = 50
)

// Movie is a catalog entry.
type Movie struct {
	ID     MovieID  `json:"id"`
	Title  string   `json:"title"`
	Year   int      `json:"year,omitempty"`
	Genres []string `json:"genres,omitempty"`
	// Hidden movies stay in the catalog but are never served (see
	// Catalog.SetHidden); a catalog write of the other fields keeps it.
	Hidden bool `json:"hidden,omitempty"`
}

// Validate reports every problem of m, naming JSON fields.
func (m Movie) Validate() error {
	var errs FieldErrors
	if err := checkID(string(m.ID)); err != nil {
		errs = errs.add("id", err.Error(), m.ID)
	}
	switch err := CheckText(m.Title); {
	case err != nil:
		errs = errs.add("title", err.Error(), nil) // the value cannot be shown as it is
	case strings.TrimSpace(m.Title) == "":
		errs = errs.add("title", "must not be empty", m.Title)
	case utf8.RuneCountInString(m.Title) > MaxTitleLength:
		errs = errs.add("title", fmt.Sprintf("must be at most %d characters", MaxTitleLength), nil)
	}
	if m.Year != 0 && (m.Year < 1870 || m.Year > 2200) {
		errs = errs.add("year", "must be between 1870 and 2200 (or omitted)", m.Year)
	}
	if len(m.Genres) > MaxGenres {
		errs = errs.add("genres", fmt.Sprintf("at most %d genres", MaxGenres), len(m.Genres))
	}
	for i, g := range m.Genres {
		field := fmt.Sprintf("genres[%d]", i)
		switch err := CheckText(g); {
		case err != nil:
			errs = errs.add(field, err.Error(), nil)
		case strings.TrimSpace(g) == "" || len(g) > MaxGenreLength:
			errs = errs.add(field, fmt.Sprintf("must be 1 to %d bytes", MaxGenreLength), g)
		}
	}
	return errs.err()
}

// MovieSet is a set of movie ids (the movies a user has seen, say).
type MovieSet map[MovieID]struct{}

// Has reports whether id is in the set; a nil set is empty.
func (s MovieSet) Has(id MovieID) bool {
	_, ok := s[id]
	return ok
}
