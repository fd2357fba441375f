package movielens

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// record is one record as a reader returned it, or the fact that it failed.
type record struct {
	line   int64
	fields []string
	failed bool
}

func readAllRecords(t testing.TB, in string, sep byte, quotes bool) []record {
	t.Helper()
	// The smallest buffer bufio allows makes short inputs cross its boundaries.
	rr := &recordReader{r: bufio.NewReaderSize(strings.NewReader(in), 16), sep: sep, quotes: quotes}
	var out []record
	for {
		fields, err := rr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
		r := record{line: rr.Line(), failed: err != nil}
		for _, f := range fields {
			r.fields = append(r.fields, string(f))
		}
		out = append(out, r)
	}
}

// referenceRecords reads in with encoding/csv, the reference for quoting.
func referenceRecords(in string) []record {
	cr := csv.NewReader(strings.NewReader(in))
	cr.FieldsPerRecord = -1
	var out []record
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			var pe *csv.ParseError
			errors.As(err, &pe)
			out = append(out, record{line: int64(pe.StartLine), failed: true})
			continue
		}
		line, _ := cr.FieldPos(0)
		out = append(out, record{line: int64(line), fields: fields})
	}
}

func TestRecordReaderMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"a,b,c\n1,2,3\n",
		"a,b\r\n\r\n\n1,2\r\n",
		`"x, y","say ""hi""",z` + "\n",
		"\"multi\nline\",2\n3,4\n",
		"\"multi\r\nline\",2",
		"a,\"\"\n,\n\"\",\n",
		"bad\"quote,1\nok,2\n",
		"\"closed\"x,1\nok,2\n",
		"\"never closed,1\nok,2\n",
		"trailing\r",
		"",
		"\n\n",
		" \"lead space\",1\n",
		strings.Repeat("long", 3000) + ",1\n2,3\n",
		"\"" + strings.Repeat("q", 5000) + "\n" + strings.Repeat("r", 5000) + "\",1\n",
	}
	for _, in := range inputs {
		got := readAllRecords(t, in, ',', true)
		want := referenceRecords(in)
		if !sameRecords(got, want) {
			t.Errorf("input %.60q:\n got %v\nwant %v", in, got, want)
		}
	}
}

func sameRecords(a, b []record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].failed != b[i].failed || a[i].line != b[i].line {
			return false
		}
		if !a[i].failed && strings.Join(a[i].fields, "\x00") != strings.Join(b[i].fields, "\x00") || len(a[i].fields) != len(b[i].fields) {
			return false
		}
	}
	return true
}

func TestRecordReaderWithoutQuotes(t *testing.T) {
	t.Parallel()
	got := readAllRecords(t, "1\t\"2\"\t3\n\n4\t5\r\n", '\t', false)
	want := []record{{line: 1, fields: []string{"1", `"2"`, "3"}}, {line: 3, fields: []string{"4", "5"}}}
	if !sameRecords(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRecordReaderBoundsRecords(t *testing.T) {
	t.Parallel()
	in := "1,2\n" + strings.Repeat("x", maxRecordBytes+10) + "\n3,4\n\"" + strings.Repeat("y", maxRecordBytes+10)
	got := readAllRecords(t, in, ',', true)
	want := []record{{line: 1, fields: []string{"1", "2"}}, {line: 2, failed: true}, {line: 3, fields: []string{"3", "4"}}, {line: 4, failed: true}}
	if !sameRecords(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
