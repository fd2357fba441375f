package movielens

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxRecordBytes bounds one record, so a file that is not what it claims
// (a binary blob, a quote that never closes) cannot exhaust memory.
const maxRecordBytes = 1 << 20

// ErrMalformed is wrapped by every syntax error of a record: a wrong field
// count, a number that does not parse, broken CSV quoting.
var ErrMalformed = errors.New("malformed record")

var (
	errBareQuote = fmt.Errorf("%w: bare \" in a non-quoted field", ErrMalformed)
	errQuote     = fmt.Errorf("%w: extraneous or missing \" in a quoted field", ErrMalformed)
	errTooLong   = fmt.Errorf("%w: record longer than %d bytes", ErrMalformed, maxRecordBytes)
)

// recordReader splits a file into records of separated fields. With
// quotes set it reads CSV as encoding/csv does with its defaults (RFC 4180
// quoting, quoted fields may span lines, "\r\n" read as "\n", blank lines
// skipped); without, a record is one line split at every separator, as
// u.data and u.item need. Unlike encoding/csv it returns fields as slices
// of its own buffers, valid until the next Read: splitting a 25M-line file
// allocates nothing per line.
type recordReader struct {
	r      *bufio.Reader
	sep    byte
	quotes bool
	line   int64 // physical lines consumed
	start  int64 // first physical line of the last record
	long   []byte
	rec    []byte // unquoted contents of a quoted record
	ends   []int
	fields [][]byte
}

func newRecordReader(r io.Reader, sep byte, quotes bool) *recordReader {
	return &recordReader{r: bufio.NewReaderSize(r, 256<<10), sep: sep, quotes: quotes}
}

// Line returns the physical line number (1-based) where the last record
// returned, or failed, started.
func (r *recordReader) Line() int64 { return r.start }

// Read returns the next record, io.EOF at the end, an error wrapping
// ErrMalformed for a record that cannot be split (the next Read goes on
// after it), or another error for failed I/O.
func (r *recordReader) Read() ([][]byte, error) {
	var line []byte
	for {
		var err error
		line, err = r.readLine()
		if err != nil && !errors.Is(err, errTooLong) {
			return nil, err
		}
		r.start = r.line
		if err != nil {
			return nil, err
		}
		if len(line) > lengthNL(line) {
			break // blank lines are skipped, as encoding/csv does
		}
	}
	if !r.quotes || bytes.IndexByte(line, '"') < 0 {
		line = line[:len(line)-lengthNL(line)]
		r.fields = r.fields[:0]
		for {
			i := bytes.IndexByte(line, r.sep)
			if i < 0 {
				r.fields = append(r.fields, line)
				return r.fields, nil
			}
			r.fields = append(r.fields, line[:i])
			line = line[i+1:]
		}
	}
	return r.readQuoted(line)
}

// readLine returns the next physical line with "\r\n" turned into "\n",
// or io.EOF. The line aliases the reader's buffer.
func (r *recordReader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.r.ReadSlice('\n')
			if len(r.long) <= maxRecordBytes {
				r.long = append(r.long, line...)
			}
		}
		if len(r.long) > maxRecordBytes && (err == nil || errors.Is(err, io.EOF)) {
			r.line++
			return nil, errTooLong
		}
		line = r.long
	}
	if len(line) > 0 && errors.Is(err, io.EOF) {
		err = nil
		if line[len(line)-1] == '\r' { // as encoding/csv: a final "\r" is dropped
			line = line[:len(line)-1]
		}
	}
	if err != nil {
		return nil, err
	}
	r.line++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, nil
}

// readQuoted parses a CSV record that contains a quote, following
// encoding/csv's readRecord (without LazyQuotes). After an error the rest
// of the line it was found on is consumed, so reading resumes at the next.
func (r *recordReader) readQuoted(line []byte) ([][]byte, error) {
	r.rec, r.ends = r.rec[:0], r.ends[:0]
	sep := r.sep
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, sep)
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return nil, errBareQuote
			}
			r.rec = append(r.rec, field...)
			r.ends = append(r.ends, len(r.rec))
			if i >= 0 {
				line = line[i+1:]
				continue parseField
			}
			break parseField
		}
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				r.rec = append(r.rec, line[:i]...)
				line = line[i+1:]
				switch {
				case len(line) > 0 && line[0] == '"':
					r.rec = append(r.rec, '"')
					line = line[1:]
				case len(line) > 0 && line[0] == sep:
					line = line[1:]
					r.ends = append(r.ends, len(r.rec))
					continue parseField
				case lengthNL(line) == len(line):
					r.ends = append(r.ends, len(r.rec))
					break parseField
				default:
					return nil, errQuote
				}
			case len(line) > 0:
				r.rec = append(r.rec, line...)
				if len(r.rec) > maxRecordBytes {
					return nil, errTooLong
				}
				var err error
				line, err = r.readLine()
				switch {
				case errors.Is(err, io.EOF):
					return nil, errQuote
				case err != nil:
					return nil, err
				}
			default:
				return nil, errQuote
			}
		}
	}
	r.fields = r.fields[:0]
	from := 0
	for _, end := range r.ends {
		r.fields = append(r.fields, r.rec[from:end:end])
		from = end
	}
	return r.fields, nil
}

// lengthNL returns 1 if b ends with a newline, else 0.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
