package parquet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// readBatch is how many rows are decoded at a time, column by column.
const readBatch = 4096

// maxPage bounds the size a page header may announce. Marquee writes
// pages of about 1 MiB; the bound keeps a corrupt header from asking for
// gigabytes.
const maxPage = 64 << 20

// Timestamps outside [minTime, maxTime] are corrupt: ingest refuses
// events before domain.EarliestEventTime, and no clock reads year 2500.
var (
	minTime = domain.EarliestEventTime.UnixMicro()
	maxTime = time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
)

// internLimit bounds each column's interning table; past it the table
// starts afresh, so memory stays bounded on files with millions of users.
const internLimit = 1 << 16

// Decode reads the Marquee interactions file of size bytes in r, calling
// fn for each row in file order with the fields selected (0 for all), and
// returns the number of rows. It reads only the columns the fields need,
// one row group at a time, and checks everything it reads: a file that is
// not Parquet, lacks a column of the schema, or holds a value no valid
// event has gives an error wrapping ports.ErrCorrupt that says what is
// wrong. An error from fn stops the read and is returned as is.
func Decode(r io.ReaderAt, size int64, fields ports.Field, fn func(domain.Interaction) error) (int, error) {
	if fields == 0 {
		fields = ports.AllFields
	}
	d := &decoder{fields: fields}
	if err := d.open(r, size); err != nil {
		return 0, err
	}
	n := 0
	for g := range d.rd.NumRowGroups() {
		rows, err := d.rowGroup(g)
		if err != nil {
			return n, err
		}
		for left := rows; left > 0; {
			batch, err := d.batch(min(left, readBatch))
			if err != nil {
				return n, err
			}
			for i := range batch {
				if err := fn(batch[i]); err != nil {
					return n, err
				}
				n++
			}
			left -= len(batch)
		}
		d.closeColumns()
	}
	return n, nil
}

// corrupt wraps ports.ErrCorrupt with an explanation.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("parquet: %w: %s", ports.ErrCorrupt, fmt.Sprintf(format, args...))
}

// guard runs f, turning a panic of the Parquet library on malformed input
// into an ErrCorrupt error (it does not validate everything it decodes).
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = corrupt("decoder failed: %v", p)
		}
	}()
	return f()
}

type decoder struct {
	fields ports.Field
	size   int64
	rd     *file.Reader
	idx    [numColumns]int // the file's column index of each schema column
	cols   [numColumns]file.ColumnChunkReader
	rows   []domain.Interaction
	defs   []int16
	bytes  []pq.ByteArray
	floats []float64
	ints   []int64
	intern [numColumns]map[string]string
}

// wanted reports whether column c is read.
func (d *decoder) wanted(c int) bool { return d.fields.Has(columns[c].field) }

// open checks the file's framing and schema.
func (d *decoder) open(r io.ReaderAt, size int64) error {
	d.size = size
	if size < 12 {
		return corrupt("%d bytes is too short for a Parquet file", size)
	}
	var head, tail [4]byte
	r = storage{r}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return readFailed(err)
	}
	if _, err := r.ReadAt(tail[:], size-4); err != nil && !errors.Is(err, io.EOF) {
		return readFailed(err)
	}
	if !bytes.Equal(head[:], []byte("PAR1")) || !bytes.Equal(tail[:], []byte("PAR1")) {
		return corrupt("no Parquet magic bytes (PAR1) at both ends (encrypted or not Parquet)")
	}
	props := pq.NewReaderProperties(nil)
	props.MaxCompressedPageSize, props.MaxUncompressedPageSize = maxPage, maxPage
	err := guard(func() error {
		var err error
		d.rd, err = file.NewParquetReader(io.NewSectionReader(r, 0, size), file.WithReadProps(props))
		return err
	})
	if err != nil {
		if errors.Is(err, ports.ErrCorrupt) || isReadError(err) {
			return err
		}
		return corrupt("footer: %v", err)
	}
	md := d.rd.MetaData()
	var total int64
	for g := range d.rd.NumRowGroups() {
		n := md.RowGroup(g).NumRows()
		if n < 0 || n > size { // every row takes at least a byte
			return corrupt("row group %d claims %d rows", g, n)
		}
		total += n
	}
	if total != md.NumRows {
		return corrupt("row groups hold %d rows, the footer says %d", total, md.NumRows)
	}
	for c := range numColumns {
		i := md.Schema.ColumnIndexByName(columns[c].name)
		if i < 0 {
			return corrupt("not a Marquee interactions file: no column %s", columns[c].name)
		}
		if err := columns[c].check(md.Schema.Column(i)); err != nil {
			return corrupt("not a Marquee interactions file: %v", err)
		}
		d.idx[c] = i
	}
	return nil
}

// rowGroup opens the wanted columns of row group g, after checking that
// their chunks lie inside the file, and returns its row count.
func (d *decoder) rowGroup(g int) (int, error) {
	var rows int
	err := guard(func() error {
		rg := d.rd.RowGroup(g)
		md := rg.MetaData()
		rows = int(rg.NumRows())
		for c := range numColumns {
			if !d.wanted(c) {
				continue
			}
			cc, err := md.ColumnChunk(d.idx[c])
			if err != nil {
				return corrupt("row group %d, column %s: %v", g, columns[c].name, err)
			}
			start, n := cc.DataPageOffset(), cc.TotalCompressedSize()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			if start < 4 || n < 0 || start > d.size || n > d.size-start {
				return corrupt("row group %d, column %s: chunk [%d, +%d) is outside the file of %d bytes", g, columns[c].name, start, n, d.size)
			}
			if cc.NumValues() != int64(rows) {
				return corrupt("row group %d, column %s: %d values for %d rows", g, columns[c].name, cc.NumValues(), rows)
			}
			col, err := rg.Column(d.idx[c])
			if err != nil {
				if isReadError(err) {
					return err
				}
				return corrupt("row group %d, column %s: %v", g, columns[c].name, err)
			}
			d.cols[c] = col
		}
		return nil
	})
	return rows, err
}

func (d *decoder) closeColumns() {
	for c, col := range d.cols {
		if cl, ok := col.(io.Closer); ok {
			_ = cl.Close()
		}
		d.cols[c] = nil
	}
}

// batch decodes the next n rows of the open row group.
func (d *decoder) batch(n int) ([]domain.Interaction, error) {
	if cap(d.rows) < n {
		d.rows = make([]domain.Interaction, n)
		d.defs = make([]int16, n)
		d.bytes = make([]pq.ByteArray, n)
		d.floats = make([]float64, n)
		d.ints = make([]int64, n)
	}
	d.rows = d.rows[:n]
	clear(d.rows)
	for c := range numColumns {
		if !d.wanted(c) {
			continue
		}
		if err := guard(func() error { return d.column(c, n) }); err != nil {
			return nil, err
		}
	}
	return d.rows, d.validate()
}

// column decodes n values of column c into d.rows, page by page: values
// of a page are only valid until the next page is read, so each call's
// values are converted before the next call.
func (d *decoder) column(c, n int) error {
	col := d.cols[c]
	for done := 0; done < n; {
		want := int64(n - done)
		var levels int64
		var vals int
		var err error
		switch r := col.(type) {
		case *file.ByteArrayColumnChunkReader:
			levels, vals, err = r.ReadBatchInPage(want, d.bytes, d.defs, nil)
			if err == nil {
				err = d.setBytes(c, done, int(levels), vals)
			}
		case *file.Float64ColumnChunkReader:
			levels, vals, err = r.ReadBatchInPage(want, d.floats, d.defs, nil)
			if err == nil {
				err = d.setFloats(c, done, int(levels), vals)
			}
		case *file.Int64ColumnChunkReader:
			levels, vals, err = r.ReadBatchInPage(want, d.ints, d.defs, nil)
			if err == nil {
				d.setTimes(c, done, vals)
			}
		default:
			return corrupt("column %s: unexpected reader %T", columns[c].name, col)
		}
		if err != nil {
			if isReadError(err) {
				return err
			}
			return corrupt("column %s: %v", columns[c].name, err)
		}
		if levels <= 0 {
			if err := col.Err(); err != nil && isReadError(err) {
				return err
			}
			return corrupt("column %s ends after %d of the row group's rows", columns[c].name, done)
		}
		done += int(levels)
	}
	return nil
}

// present returns, for a batch of levels, which rows have a value: all of
// them for a required column.
func (d *decoder) present(c, levels, vals int) (func(i int) bool, error) {
	if !columns[c].optional {
		if vals != levels {
			return nil, corrupt("column %s: %d values for %d rows", columns[c].name, vals, levels)
		}
		return func(int) bool { return true }, nil
	}
	count := 0
	for _, l := range d.defs[:levels] {
		switch l {
		case 1:
			count++
		case 0:
		default:
			return nil, corrupt("column %s: definition level %d", columns[c].name, l)
		}
	}
	if count != vals {
		return nil, corrupt("column %s: %d values for %d non-null levels", columns[c].name, vals, count)
	}
	return func(i int) bool { return d.defs[i] == 1 }, nil
}

func (d *decoder) setBytes(c, at, levels, vals int) error {
	has, err := d.present(c, levels, vals)
	if err != nil {
		return err
	}
	v := 0
	for i := range levels {
		if !has(i) {
			continue
		}
		b := d.bytes[v]
		v++
		if len(b) > domain.MaxIDLength {
			return corrupt("column %s: a value of %d bytes (ids are at most %d)", columns[c].name, len(b), domain.MaxIDLength)
		}
		row := &d.rows[at+i]
		switch c {
		case colEventID:
			row.EventID = string(b)
		case colUserID:
			row.UserID = domain.UserID(d.interned(c, b))
		case colMovieID:
			row.MovieID = domain.MovieID(d.interned(c, b))
		case colType:
			row.Type = domain.EventType(d.interned(c, b))
		case colRecLogID:
			row.RecLogID = string(b)
		}
	}
	return nil
}

// interned returns b as a string shared by every equal value of column
// c: users, movies and types repeat, so the loader keeps one copy of each.
func (d *decoder) interned(c int, b []byte) string {
	m := d.intern[c]
	if s, ok := m[string(b)]; ok {
		return s
	}
	if m == nil || len(m) >= internLimit {
		m = make(map[string]string, 1024)
		d.intern[c] = m
	}
	s := string(b)
	m[s] = s
	return s
}

func (d *decoder) setFloats(c, at, levels, vals int) error {
	has, err := d.present(c, levels, vals)
	if err != nil {
		return err
	}
	v := 0
	for i := range levels {
		if !has(i) {
			continue
		}
		f := d.floats[v]
		v++
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return corrupt("column %s: %v is not a finite number", columns[c].name, f)
		}
		row := &d.rows[at+i]
		if c == colWeight {
			row.Weight = f
		} else {
			row.Value = &f
		}
	}
	return nil
}

func (d *decoder) setTimes(c, at, vals int) {
	for i, us := range d.ints[:vals] {
		// validate checks the range: an out-of-range value is kept
		// recognisable by leaving the time zero.
		if us < minTime || us > maxTime {
			continue
		}
		t := time.UnixMicro(us).UTC()
		if c == colTime {
			d.rows[at+i].Time = t
		} else {
			d.rows[at+i].IngestedAt = t
		}
	}
}

// validate checks the decoded batch row by row.
func (d *decoder) validate() error {
	for i := range d.rows {
		r := &d.rows[i]
		switch {
		case d.wanted(colEventID) && r.EventID == "":
			return corrupt("row with an empty event_id")
		case d.wanted(colUserID) && r.UserID == "":
			return corrupt("event %q: empty user_id", r.EventID)
		case d.wanted(colMovieID) && r.MovieID == "":
			return corrupt("event %q: empty movie_id", r.EventID)
		case d.wanted(colType) && !knownType(r.Type):
			return corrupt("event %q: unknown event_type %q", r.EventID, r.Type)
		case d.wanted(colTime) && r.Time.IsZero():
			return corrupt("event %q: ts outside %s … 2500", r.EventID, domain.EarliestEventTime.Format(time.DateOnly))
		case d.wanted(colIngestedAt) && r.IngestedAt.IsZero():
			return corrupt("event %q: ingested_at outside %s … 2500", r.EventID, domain.EarliestEventTime.Format(time.DateOnly))
		}
	}
	return nil
}

func knownType(t domain.EventType) bool {
	for _, k := range domain.EventTypes {
		if t == k {
			return true
		}
	}
	return false
}

// readError marks a failure of the storage (as opposed to bad content),
// so that it keeps its own wrapping (ports.ErrUnavailable, say) instead of
// being reported as corruption.
type readError struct{ err error }

func (e *readError) Error() string { return "parquet: read: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readFailed is the error of a raw read: a storage failure as such, a
// short file as corruption.
func readFailed(err error) error {
	if isReadError(err) {
		return err
	}
	return corrupt("%v", err)
}

// isReadError reports whether err came from the storage.
func isReadError(err error) bool {
	var re *readError
	return errors.As(err, &re)
}

// storage marks the errors of the reader under the Parquet library.
type storage struct{ r io.ReaderAt }

func (s storage) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &readError{err}
	}
	return n, err
}
