package movielens

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// WriteStats counts what Write wrote.
type WriteStats struct {
	Movies  int64
	Events  int64 // lines of events.csv: every interaction
	Ratings int64 // lines of ratings.csv: the rating interactions
}

// Write writes a dataset in the Marquee layout to dir (created if needed):
// movies.csv, ratings.csv and events.csv, described in the package
// documentation. each streams the interactions, as synth.Generator.Each
// does (nil means none): nothing is held in memory but the write buffers.
// Every file is written under a temporary name and renamed into place,
// replacing any file of that name, only when all three are complete and
// synced, events.csv last: a failed or interrupted Write leaves no
// dataset behind in a fresh directory.
func Write(ctx context.Context, dir string, movies []domain.Movie, each func(func(domain.Interaction) error) error) (WriteStats, error) {
	var st WriteStats
	if each == nil {
		each = func(func(domain.Interaction) error) error { return nil }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, fmt.Errorf("movielens: write: %w", err)
	}
	w := &writer{dir: dir}
	defer w.abort()
	mf, err := w.create(FileMovies)
	if err != nil {
		return st, err
	}
	if st.Movies, err = writeMovies(mf, movies); err != nil {
		return st, fmt.Errorf("movielens: write %s: %w", FileMovies, err)
	}
	rf, err := w.create(FileRatings)
	if err != nil {
		return st, err
	}
	ef, err := w.create(FileEvents)
	if err != nil {
		return st, err
	}
	if _, err := rf.WriteString(ratingsHeader + "\n"); err != nil {
		return st, fmt.Errorf("movielens: write %s: %w", FileRatings, err)
	}
	if _, err := ef.WriteString(eventsHeader + "\n"); err != nil {
		return st, fmt.Errorf("movielens: write %s: %w", FileEvents, err)
	}
	var line []byte
	err = each(func(ev domain.Interaction) error {
		if st.Events%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line = appendEvent(line[:0], ev)
		if _, err := ef.Write(line); err != nil {
			return err
		}
		st.Events++
		if ev.Type == domain.EventRating && ev.Value != nil {
			line = appendRating(line[:0], ev)
			if _, err := rf.Write(line); err != nil {
				return err
			}
			st.Ratings++
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("movielens: write after %d events: %w", st.Events, err)
	}
	if err := w.commit(); err != nil {
		return st, err
	}
	return st, nil
}

// writeMovies writes movies.csv in the ml-latest form: the year joins the
// title, genres are '|'-separated.
func writeMovies(w *bufio.Writer, movies []domain.Movie) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"movieId", "title", "genres"}); err != nil {
		return 0, err
	}
	for i, m := range movies {
		title := m.Title
		if m.Year != 0 {
			title += " (" + strconv.Itoa(m.Year) + ")"
		}
		genres := noGenres
		if len(m.Genres) > 0 {
			for _, g := range m.Genres {
				if strings.Contains(g, "|") || g == noGenres {
					return int64(i), fmt.Errorf("movie %s: genre %q cannot be written in the MovieLens genres column", m.ID, g)
				}
			}
			genres = strings.Join(m.Genres, "|")
		}
		if err := cw.Write([]string{string(m.ID), title, genres}); err != nil {
			return int64(i), err
		}
	}
	cw.Flush()
	return int64(len(movies)), cw.Error()
}

// appendEvent appends one line of events.csv.
func appendEvent(b []byte, ev domain.Interaction) []byte {
	b = appendField(b, ev.EventID)
	b = append(b, ',')
	b = appendField(b, string(ev.UserID))
	b = append(b, ',')
	b = appendField(b, string(ev.MovieID))
	b = append(b, ',')
	b = appendField(b, string(ev.Type))
	b = append(b, ',')
	if ev.Value != nil {
		b = strconv.AppendFloat(b, *ev.Value, 'g', -1, 64)
	}
	b = append(b, ',')
	b = ev.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = appendField(b, ev.RecLogID)
	return append(b, '\n')
}

// appendRating appends one line of ratings.csv: whole unix seconds and a
// rating with at least one decimal, as MovieLens writes them.
func appendRating(b []byte, ev domain.Interaction) []byte {
	b = appendField(b, string(ev.UserID))
	b = append(b, ',')
	b = appendField(b, string(ev.MovieID))
	b = append(b, ',')
	v := *ev.Value
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	if v == math.Trunc(v) && !math.IsInf(v, 0) {
		b = append(b, ".0"...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, ev.Time.Unix(), 10)
	return append(b, '\n')
}

// appendField appends s as a CSV field, quoted only when it must be. Valid
// ids never need quotes; the check keeps any input readable back.
func appendField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") && (s == "" || (s[0] != ' ' && s[0] != '\t')) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// writer owns the temporary files of one Write.
type writer struct {
	dir   string
	files []*tempFile
}

type tempFile struct {
	f    *os.File
	w    *bufio.Writer
	name string
}

func (w *writer) create(name string) (*bufio.Writer, error) {
	f, err := os.CreateTemp(w.dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("movielens: write: %w", err)
	}
	t := &tempFile{f: f, w: bufio.NewWriterSize(f, 1<<20), name: name}
	w.files = append(w.files, t)
	return t.w, nil
}

// commit flushes, syncs and closes every file, then renames them into
// place in creation order.
func (w *writer) commit() error {
	for _, t := range w.files {
		err := errors.Join(t.w.Flush(), t.f.Sync(), t.f.Chmod(0o644))
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("movielens: write %s: %w", t.name, err)
		}
	}
	for _, t := range w.files {
		if err := os.Rename(t.f.Name(), filepath.Join(w.dir, t.name)); err != nil {
			return fmt.Errorf("movielens: write %s: %w", t.name, err)
		}
	}
	w.files = nil
	return nil
}

// abort removes what commit did not rename.
func (w *writer) abort() {
	for _, t := range w.files {
		_ = t.f.Close()
		_ = os.Remove(t.f.Name())
	}
}
