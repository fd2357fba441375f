package movielens

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzRecordReader checks the CSV reader against encoding/csv: the same
// records, fields, start lines and failures for any input.
func FuzzRecordReader(f *testing.F) {
	for _, s := range []string{
		"userId,movieId,rating,timestamp\n1,2,3.5,1100000000\n",
		"1,\"Quiet Harbour, The (1994)\",Drama|Romance\r\n",
		"\"a\"\"b\",\"multi\nline\"\n\n",
		"bad\"quote,1\n\"x\"y,2\n\"open\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := readAllRecords(t, in, ',', true)
		want := referenceRecords(in)
		if !sameRecords(got, want) {
			t.Fatalf("input %q:\n got %v\nwant %v", in, got, want)
		}
	})
}

// FuzzParseUDataLine checks that any line parses or fails cleanly, and
// that what parses is a MovieLens rating that maps to valid ids.
func FuzzParseUDataLine(f *testing.F) {
	for _, s := range []string{"196\t242\t3\t881250949", "1\t2\t4.5\t-1", "x\t1\t1\t1", "1\t2\t3", "1\t2\t3\t4\t5", "007\t0\t1e3\t9"} {
		f.Add([]byte(s))
	}
	b := newBuilder(DefaultNamespace, defaultConfig())
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseUDataLine(line)
		if err != nil {
			return
		}
		if bytes.Count(line, []byte{'\t'}) != 3 || len(r.user) == 0 || len(r.movie) == 0 {
			t.Fatalf("%q parsed as %+v", line, r)
		}
		ev, err := b.rating(r, nil)
		if err != nil {
			return // out of range for the domain
		}
		if ev.Value == nil || *ev.Value != r.value || ev.Time.Unix() != r.ts || ev.Weight != r.value {
			t.Fatalf("%q became %+v", line, ev)
		}
	})
}

// FuzzParseUItemLine checks that any line parses or fails cleanly, and
// that every movie it yields is valid, in UTF-8, with normalised genres.
func FuzzParseUItemLine(f *testing.F) {
	for _, s := range []string{
		"1|Toy Story (1995)|01-Jan-1995||http://example.invalid|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
		"543|Mis\xe9rables, Les (1995)|01-Jan-1995||u|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0",
		"267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
		"2|x|y",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := parseUItemLine(DefaultNamespace, line)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil || !utf8.ValidString(m.Title) {
			t.Fatalf("%q parsed as invalid %#v: %v", line, m, err)
		}
		for _, g := range m.Genres {
			if g == "Children's" || g == "unknown" || g == "" {
				t.Fatalf("%q: genre %q not normalised", line, g)
			}
		}
	})
}
