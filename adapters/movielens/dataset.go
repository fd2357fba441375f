package movielens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/marquee-recsys/marquee/domain"
)

// Layout is a MovieLens file layout.
type Layout string

// The layouts Open recognises.
const (
	Layout100K    Layout = "ml-100k"   // u.data + u.item
	LayoutLatest  Layout = "ml-latest" // ratings.csv + movies.csv (ml-latest, ml-20m, ml-25m, ml-32m)
	LayoutMarquee Layout = "marquee"   // ml-latest plus events.csv, as Write produces
)

// File names of the layouts.
const (
	FileUData   = "u.data"
	FileUItem   = "u.item"
	FileRatings = "ratings.csv"
	FileMovies  = "movies.csv"
	FileEvents  = "events.csv"
)

// ErrUnknownLayout is returned by Open for a directory that holds no
// dataset it recognises, or pieces of two layouts.
var ErrUnknownLayout = errors.New("movielens: unrecognised dataset layout")

// LineError is one record that was skipped (or, in strict mode, that
// failed the read). Err wraps ErrMalformed for a syntax error and
// domain.ErrInvalid for a record that breaks a domain rule.
type LineError struct {
	File string // base name, such as "ratings.csv"
	Line int64  // 1-based physical line where the record starts
	Err  error
}

// Error implements error.
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Counts describes one pass over one file.
type Counts struct {
	File     string
	Records  int64 // data records read: header and blank lines excluded
	Accepted int64
	Skipped  int64
	// Errors holds the first skipped records (WithMaxErrors of them).
	Errors []*LineError
}

// Stats describes the last Movies and EachInteraction passes.
type Stats struct {
	Layout       Layout
	Movies       Counts
	Interactions Counts
}

// Dataset is a MovieLens dataset on disk. Its methods re-read the files on
// every call; it is not safe for concurrent use.
type Dataset struct {
	dir    string
	cfg    config
	layout Layout
	stats  Stats
}

// Open detects the layout of the dataset in dir. It reads no records:
// Movies and EachInteraction do.
func Open(dir string, opts ...Option) (*Dataset, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("movielens: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("movielens: %s is not a directory", dir)
	}
	has := func(name string) bool {
		info, err := os.Stat(filepath.Join(dir, name))
		return err == nil && info.Mode().IsRegular()
	}
	latest := has(FileRatings) || has(FileMovies) || has(FileEvents)
	old := has(FileUData) || has(FileUItem)
	var layout Layout
	switch {
	case latest && old:
		return nil, fmt.Errorf("%w: %s holds both ML-100K files (u.data, u.item) and ml-latest files (ratings.csv, movies.csv)", ErrUnknownLayout, dir)
	case has(FileEvents):
		layout = LayoutMarquee
	case latest:
		layout = LayoutLatest
	case old:
		layout = Layout100K
	default:
		return nil, fmt.Errorf("%w: %s holds none of u.data, u.item, ratings.csv, movies.csv, events.csv", ErrUnknownLayout, dir)
	}
	return &Dataset{dir: dir, cfg: cfg, layout: layout, stats: Stats{Layout: layout}}, nil
}

// Layout returns the detected layout.
func (d *Dataset) Layout() Layout { return d.layout }

// Stats returns the counts of the last Movies and EachInteraction passes.
func (d *Dataset) Stats() Stats {
	s := d.stats
	s.Movies.Errors = append([]*LineError(nil), s.Movies.Errors...)
	s.Interactions.Errors = append([]*LineError(nil), s.Interactions.Errors...)
	return s
}

// MoviesFile names the file Movies reads.
func (d *Dataset) MoviesFile() string {
	if d.layout == Layout100K {
		return filepath.Join(d.dir, FileUItem)
	}
	return filepath.Join(d.dir, FileMovies)
}

// InteractionsFile names the file EachInteraction reads.
func (d *Dataset) InteractionsFile() string {
	switch d.layout {
	case Layout100K:
		return filepath.Join(d.dir, FileUData)
	case LayoutMarquee:
		return filepath.Join(d.dir, FileEvents)
	}
	return filepath.Join(d.dir, FileRatings)
}

// namespace is the namespace ids are mapped into; "" keeps them verbatim.
func (d *Dataset) namespace() string {
	if d.layout == LayoutMarquee {
		return ""
	}
	return d.cfg.namespace
}

// Movies reads the catalog. Invalid records are skipped and counted in
// Stats().Movies (strict mode: the first fails the read), as are repeated
// ids after their first record.
func (d *Dataset) Movies(ctx context.Context) ([]domain.Movie, error) {
	path := d.MoviesFile()
	t := d.newTally(&d.stats.Movies, path)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("movielens: movies: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose on close
	ns := d.namespace()
	var rr *recordReader
	if d.layout == Layout100K {
		rr = newRecordReader(f, '\n', false) // one field per line: u.item is split by parseUItemLine
	} else {
		rr = newRecordReader(f, ',', true)
		if err := readHeader(rr, t.c.File, moviesHeader); err != nil {
			return nil, err
		}
	}
	var movies []domain.Movie
	seen := map[domain.MovieID]struct{}{}
	for {
		fields, err := t.next(ctx, rr)
		if errors.Is(err, io.EOF) {
			return movies, nil
		}
		if err != nil {
			return nil, err
		}
		var m domain.Movie
		if d.layout == Layout100K {
			m, err = parseUItemLine(ns, fields[0])
		} else {
			m, err = parseMovieFields(ns, fields)
		}
		if err == nil {
			if _, dup := seen[m.ID]; dup {
				err = fmt.Errorf("%w: movie %s listed twice", ErrMalformed, m.ID)
			}
		}
		if err != nil {
			if err := t.skip(rr.Line(), err); err != nil {
				return nil, err
			}
			continue
		}
		seen[m.ID] = struct{}{}
		t.c.Accepted++
		movies = append(movies, m)
	}
}

// readHeader checks the header of a CSV file. A file without the expected
// header fails the read: its columns may be in another order.
func readHeader(rr *recordReader, file, want string) error {
	fields, err := rr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil // an empty file is an empty dataset
	case err != nil && !errors.Is(err, ErrMalformed):
		return fmt.Errorf("movielens: %s: %w", file, err)
	}
	var got string
	if err == nil {
		got = string(bytes.Join(fields, []byte(",")))
	}
	got = strings.TrimPrefix(got, "\uFEFF")
	if got != want {
		return &LineError{File: file, Line: rr.Line(), Err: fmt.Errorf("%w: header is %q, want %q", ErrMalformed, got, want)}
	}
	return nil
}

// tally counts one pass over one file and decides what a bad record does.
type tally struct {
	c      *Counts
	strict bool
	max    int
}

func (d *Dataset) newTally(c *Counts, path string) *tally {
	*c = Counts{File: filepath.Base(path)}
	return &tally{c: c, strict: d.cfg.strict, max: d.cfg.maxErrors}
}

// next returns the next well-formed record, or io.EOF at the end of the
// file. Malformed records are counted and skipped (in strict mode the
// first ends the pass), and ctx is checked every few thousand records.
func (t *tally) next(ctx context.Context, rr *recordReader) ([][]byte, error) {
	for {
		fields, err := rr.Read()
		switch {
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case err != nil && !errors.Is(err, ErrMalformed):
			return nil, fmt.Errorf("movielens: %s: %w", t.c.File, err)
		}
		t.c.Records++
		if t.c.Records%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err == nil {
			return fields, nil
		}
		if err := t.skip(rr.Line(), err); err != nil {
			return nil, err
		}
	}
}

// skip records a bad record; in strict mode it returns the error that
// ends the pass.
func (t *tally) skip(line int64, err error) error {
	t.c.Skipped++
	le := &LineError{File: t.c.File, Line: line, Err: err}
	if len(t.c.Errors) < t.max {
		t.c.Errors = append(t.c.Errors, le)
	}
	if t.strict {
		return le
	}
	return nil
}
