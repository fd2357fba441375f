package movielens

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marquee-recsys/marquee/domain"
)

// itemGenres are ML-100K's genre flags in u.genre order.
var itemGenres = [19]string{
	"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
	"Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
	"Thriller", "War", "Western",
}

// itemFields is the number of fields of a u.item line.
const itemFields = 5 + len(itemGenres)

// noGenres is how ml-latest says a movie has no genre.
const noGenres = "(no genres listed)"

// genreAliases maps the MovieLens genre names that changed between
// releases to one name; an empty name means "no genre".
var genreAliases = map[string]string{
	"Children's": "Children",
	"unknown":    "",
	noGenres:     "",
}

// Year bounds of domain.Movie.Validate: a year outside them is dropped
// rather than rejecting the movie.
const minYear, maxYear = 1870, 2200

// parseUItemLine parses one line of u.item into a movie under namespace ns.
func parseUItemLine(ns string, line []byte) (domain.Movie, error) {
	var f [itemFields][]byte
	n := 0
	for rest := line; ; n++ {
		if n == itemFields {
			return domain.Movie{}, fmt.Errorf("%w: more than %d '|'-separated fields", ErrMalformed, itemFields)
		}
		i := bytes.IndexByte(rest, '|')
		if i < 0 {
			f[n] = rest
			n++
			break
		}
		f[n], rest = rest[:i], rest[i+1:]
	}
	if n != itemFields {
		return domain.Movie{}, fmt.Errorf("%w: %d '|'-separated fields, want %d", ErrMalformed, n, itemFields)
	}
	id, ok := canonicalID(f[0])
	if !ok {
		return domain.Movie{}, fmt.Errorf("%w: movie id %q is not a number", ErrMalformed, f[0])
	}
	title, year := splitTitle(decodeLatin1(f[1]))
	if year == 0 {
		year = releaseYear(string(f[2]))
	}
	m := domain.Movie{ID: domain.MovieID(ns + "_m" + string(id)), Title: title, Year: year}
	for i, flag := range f[5:] {
		switch string(flag) {
		case "0":
		case "1":
			m.Genres = addGenre(m.Genres, itemGenres[i], true)
		default:
			return domain.Movie{}, fmt.Errorf("%w: genre flag %d (%s) is %q, want 0 or 1", ErrMalformed, i, itemGenres[i], flag)
		}
	}
	return m, m.Validate()
}

// parseMovieFields turns the fields of a movies.csv record into a movie.
// MovieLens ids are mapped into ns; a Marquee dataset's are kept (ns "").
func parseMovieFields(ns string, f [][]byte) (domain.Movie, error) {
	if len(f) != 3 {
		return domain.Movie{}, fmt.Errorf("%w: %d fields, want 3 (movieId,title,genres)", ErrMalformed, len(f))
	}
	id := string(f[0])
	if ns != "" {
		c, ok := canonicalID(f[0])
		if !ok {
			return domain.Movie{}, fmt.Errorf("%w: movie id %q is not a number", ErrMalformed, f[0])
		}
		id = ns + "_m" + string(c)
	}
	title, year := splitTitle(string(f[1]))
	m := domain.Movie{ID: domain.MovieID(id), Title: title, Year: year}
	if g := f[2]; len(g) > 0 && string(g) != noGenres {
		for name := range strings.SplitSeq(string(g), "|") {
			m.Genres = addGenre(m.Genres, name, ns != "")
		}
	}
	return m, m.Validate()
}

// addGenre appends a genre once, normalising MovieLens names when alias is
// set (a Marquee dataset's genres are its own and kept as written).
func addGenre(genres []string, name string, alias bool) []string {
	name = strings.TrimSpace(name)
	if alias {
		if a, ok := genreAliases[name]; ok {
			name = a
		}
	}
	for _, g := range genres {
		if g == name {
			return genres
		}
	}
	if name == "" && alias {
		return genres
	}
	return append(genres, name)
}

// splitTitle splits a MovieLens title "Heat (1995)" into "Heat" and 1995.
// A year range "(1975-1979)", as TV series have in ml-latest, gives its
// first year. A title without a plausible year is returned whole with 0.
func splitTitle(s string) (string, int) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, ")") {
		return s, 0
	}
	open := strings.LastIndexByte(s, '(')
	if open < 0 {
		return s, 0
	}
	inner := s[open+1 : len(s)-1]
	if len(inner) < 4 {
		return s, 0
	}
	year := 0
	for i := range 4 {
		if !isDigit(inner[i]) {
			return s, 0
		}
		year = year*10 + int(inner[i]-'0')
	}
	switch rest := inner[4:]; {
	case rest == "":
	case strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "–"):
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "-"), "–")
		if rest != "" && (len(rest) != 4 || strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }) >= 0) {
			return s, 0
		}
	default:
		return s, 0
	}
	title := strings.TrimSpace(s[:open])
	if year < minYear || year > maxYear || title == "" {
		return s, 0
	}
	return title, year
}

// releaseYear returns the year of an ML-100K release date ("01-Jan-1995"),
// or 0.
func releaseYear(s string) int {
	t, err := time.Parse("02-Jan-2006", strings.TrimSpace(s))
	if err != nil || t.Year() < minYear || t.Year() > maxYear {
		return 0
	}
	return t.Year()
}

// decodeLatin1 converts ISO 8859-1 text to UTF-8. Text that is already
// valid UTF-8 is returned unchanged: ASCII is both, and a Latin-1 title
// with an accent is almost never valid UTF-8 by accident, so a u.item that
// someone re-encoded still reads correctly.
func decodeLatin1(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

// canonicalID checks that b is a MovieLens id (1 to 20 digits) and strips
// leading zeros, so "007" and "7" name the same user.
func canonicalID(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b) > 20 {
		return nil, false
	}
	for _, c := range b {
		if !isDigit(c) {
			return nil, false
		}
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	return b, true
}
