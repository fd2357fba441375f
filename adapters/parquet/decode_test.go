package parquet

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var testDay = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func sample(n int) []domain.Interaction {
	out := make([]domain.Interaction, n)
	for i := range out {
		t := testDay.Add(time.Duration(i) * time.Second)
		v := 3.5
		out[i] = domain.Interaction{EventID: fmt.Sprint("e", i), UserID: domain.UserID(fmt.Sprint("u", i%3)), MovieID: "m1",
			Type: domain.EventRating, Value: &v, Weight: 3.5, Time: t, RecLogID: "rl", IngestedAt: t}
		if i%2 == 1 {
			out[i].Value, out[i].RecLogID, out[i].Type, out[i].Weight = nil, "", domain.EventClick, 2
		}
	}
	return out
}

func encoded(t testing.TB, rows []domain.Interaction, rowGroup int, codec compress.Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := encode(&buf, testDay, rows, rowGroup, codec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAll(b []byte, fields ports.Field) ([]domain.Interaction, error) {
	var out []domain.Interaction
	_, err := Decode(bytes.NewReader(b), int64(len(b)), fields, func(ev domain.Interaction) error {
		out = append(out, ev)
		return nil
	})
	return out, err
}

// foreign writes a Parquet file whose schema differs from the archive's
// in one column.
func foreign(t *testing.T, mutate func(i int, c column) column) []byte {
	t.Helper()
	fields := schema.FieldList{}
	for i, c := range columns {
		c = mutate(i, c)
		if c.name == "" {
			continue
		}
		rep := pq.Repetitions.Required
		if c.optional {
			rep = pq.Repetitions.Optional
		}
		n, err := schema.NewPrimitiveNodeLogical(c.name, rep, c.logical, c.physical, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, n)
	}
	root, err := schema.NewGroupNode("x", pq.Repetitions.Required, fields, -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fw, err := file.NewParquetWriterWithError(&buf, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeRefusesDamagedFiles(t *testing.T) {
	t.Parallel()
	good := encoded(t, sample(100), 40, compress.Codecs.Zstd)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-10] ^= 0x55 // inside the footer
	withRow := func(mutate func(*domain.Interaction)) []byte {
		rows := sample(3)
		mutate(&rows[1])
		return encoded(t, rows, 10, compress.Codecs.Zstd)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"not parquet", []byte("event_id,user_id\ne1,u1\n"), "magic"},
		{"truncated", good[:len(good)/2], "magic"},
		{"damaged footer", flipped, ""},
		{"missing column", foreign(t, func(i int, c column) column {
			if i == colWeight {
				c.name = ""
			}
			return c
		}), "no column weight"},
		{"wrong type", foreign(t, func(i int, c column) column {
			if i == colWeight {
				c.physical, c.logical = pq.Types.Int64, schema.NoLogicalType{}
			}
			return c
		}), "column weight is INT64"},
		{"time in milliseconds", foreign(t, func(i int, c column) column {
			if i == colTime {
				c.logical = schema.NewTimestampLogicalType(true, schema.TimeUnitMillis)
			}
			return c
		}), "timestamp[us, UTC]"},
		{"nullable id", foreign(t, func(i int, c column) column {
			if i == colEventID {
				c.optional = true
			}
			return c
		}), "definition level"},
		{"unknown type", withRow(func(r *domain.Interaction) { r.Type = "explode" }), `unknown event_type "explode"`},
		{"empty user", withRow(func(r *domain.Interaction) { r.UserID = "" }), "empty user_id"},
		{"ancient time", withRow(func(r *domain.Interaction) { r.Time = time.Unix(0, 0) }), "ts outside"},
		{"long id", withRow(func(r *domain.Interaction) { r.MovieID = domain.MovieID(strings.Repeat("m", 200)) }), "200 bytes"},
	} {
		_, err := decodeAll(c.data, 0)
		if !errors.Is(err, ports.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrCorrupt saying %q", c.name, err, c.want)
		}
	}
}

func TestDecodeReadsOnlyWhatIsAsked(t *testing.T) {
	t.Parallel()
	rows := sample(10)
	b := encoded(t, rows, 4, compress.Codecs.Snappy)
	got, err := decodeAll(b, ports.FieldMovieID|ports.FieldValue)
	if err != nil || len(got) != 10 {
		t.Fatalf("%d rows, %v", len(got), err)
	}
	for i, ev := range got {
		if ev.EventID != "" || ev.UserID != "" || ev.MovieID != "m1" || !ev.Time.IsZero() || (ev.Value == nil) != (rows[i].Value == nil) {
			t.Fatalf("row %d = %+v", i, ev)
		}
	}
}

// FuzzDecode feeds damaged and arbitrary bytes to the reader: it must
// return rows or an error, never panic or hang, and whatever it returns
// must be valid.
func FuzzDecode(f *testing.F) {
	good := encoded(f, sample(50), 16, compress.Codecs.Zstd)
	f.Add(good)
	f.Add(encoded(f, sample(5), 2, compress.Codecs.Snappy))
	f.Add(encoded(f, sample(1), 1, compress.Codecs.Uncompressed))
	f.Add(good[:len(good)-1])
	f.Add(good[len(good)/2:])
	f.Add([]byte("PAR1PAR1PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00\x08\x00\x00\x00PAR1"))
	f.Add(append([]byte("PAR1"), bytes.Repeat([]byte{0xff}, 64)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := decodeAll(data, 0)
		if err != nil {
			if !errors.Is(err, ports.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.EventID == "" || r.UserID == "" || r.MovieID == "" || r.Time.IsZero() || r.IngestedAt.IsZero() {
				t.Fatalf("invalid row accepted: %+v", r)
			}
		}
	})
}
