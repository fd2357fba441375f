// Package demodata is the small catalog a newcomer sees when Marquee runs
// with no configuration: about 180 well-known feature films, so that the
// first recommendations are recognisable and a taste (horror, animation,
// westerns…) is visible at a glance.
//
// The titles, years and genres are factual metadata written by hand for
// this project; they are not taken from MovieLens or any other dataset,
// which Marquee may not redistribute. Genres come from the fixed set in
// synth.Genres, so the synthetic generator can model tastes over them.
package demodata

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

//go:embed movies.csv
var moviesCSV []byte

// header is the exact first line of movies.csv; checking it catches a
// column reordering that would otherwise parse into nonsense.
var header = []string{"id", "title", "year", "genres"}

// Movies parses the embedded catalog. It fails, naming the CSV line, on a
// malformed row, an invalid movie, a genre outside synth.Genres or a
// duplicate id: the file ships inside the binary, so any error is a bug
// caught by this package's tests rather than something to recover from.
func Movies() ([]domain.Movie, error) {
	return parse(bytes.NewReader(moviesCSV))
}

// parse reads a catalog in the movies.csv format from r.
func parse(r io.Reader) ([]domain.Movie, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("demodata: reading header: %w", err)
	}
	if !slices.Equal(head, header) {
		return nil, fmt.Errorf("demodata: header is %q, want %q", head, header)
	}
	var movies []domain.Movie
	seen := map[domain.MovieID]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return movies, nil
		}
		if err != nil {
			return nil, fmt.Errorf("demodata: %w", err)
		}
		line, _ := cr.FieldPos(0)
		m, err := parseMovie(rec)
		if err != nil {
			return nil, fmt.Errorf("demodata: line %d: %w", line, err)
		}
		if first, dup := seen[m.ID]; dup {
			return nil, fmt.Errorf("demodata: line %d: duplicate id %q (first on line %d)", line, m.ID, first)
		}
		seen[m.ID] = line
		movies = append(movies, m)
	}
}

// parseMovie turns one record into a validated movie.
func parseMovie(rec []string) (domain.Movie, error) {
	year, err := strconv.Atoi(rec[2])
	if err != nil {
		return domain.Movie{}, fmt.Errorf("year %q: not an integer", rec[2])
	}
	m := domain.Movie{ID: domain.MovieID(rec[0]), Title: rec[1], Year: year}
	if rec[3] != "" {
		m.Genres = strings.Split(rec[3], "|")
	}
	if err := m.Validate(); err != nil {
		return domain.Movie{}, fmt.Errorf("movie %q: %w", rec[0], err)
	}
	for _, g := range m.Genres {
		if !slices.Contains(synth.Genres, g) {
			return domain.Movie{}, fmt.Errorf("movie %q: genre %q is not one of %v", rec[0], g, synth.Genres)
		}
	}
	return m, nil
}
