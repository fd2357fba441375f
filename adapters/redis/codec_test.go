package redis

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

func codecList(n int) domain.RecList {
	l := domain.RecList{Tier: domain.TierVector, ModelVersion: "als-20260314-020000", GeneratedAt: time.Date(2026, 3, 14, 15, 9, 26, 535897123, time.UTC)}
	for i := range n {
		id := domain.MovieID("tt" + strings.Repeat("7", 7) + string(rune('a'+i%26)))
		l.Items = append(l.Items, domain.ScoredMovie{MovieID: id, Score: 1.5 / float64(i+1), Title: "Interstellar (2014) " + string(rune('a'+i%26))})
	}
	return l
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		list domain.RecList
	}{
		{"empty", domain.RecList{}},
		{"no items", domain.RecList{Tier: domain.TierBatch, GeneratedAt: time.Unix(0, 0)}},
		{"one item without title", domain.RecList{Tier: domain.TierBatch, Items: []domain.ScoredMovie{{MovieID: "m1", Score: -0.25}}}},
		{"hundred items", codecList(100)},
		{"non-UTC time and odd scores", domain.RecList{
			Tier: domain.TierPopular, GeneratedAt: time.Date(1969, 7, 20, 20, 17, 40, 1, berlin),
			Items: []domain.ScoredMovie{
				{MovieID: "a", Score: math.Inf(1), Title: "Amélie — 天使"},
				{MovieID: "b", Score: math.SmallestNonzeroFloat64},
				{MovieID: "c", Score: -math.MaxFloat64, Title: strings.Repeat("x", 300)},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc := encodeList(nil, tt.list)
			if len(enc) > encodedLen(tt.list) {
				t.Errorf("encoded %d bytes, encodedLen promised at most %d", len(enc), encodedLen(tt.list))
			}
			got, err := decodeList(string(enc))
			if err != nil {
				t.Fatal(err)
			}
			if !got.GeneratedAt.Equal(tt.list.GeneratedAt) {
				t.Errorf("GeneratedAt = %v, want %v", got.GeneratedAt, tt.list.GeneratedAt)
			}
			if tt.list.GeneratedAt.IsZero() != got.GeneratedAt.IsZero() {
				t.Errorf("zero time not preserved: %v", got.GeneratedAt)
			}
			got.GeneratedAt, tt.list.GeneratedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.list) {
				t.Errorf("round trip = %+v, want %+v", got, tt.list)
			}
		})
	}
}

func TestCodecRejects(t *testing.T) {
	valid := string(encodeList(nil, codecList(3)))
	if _, err := decodeList("\x02" + valid[1:]); err == nil || errors.Is(err, errCorrupt) {
		t.Errorf("unknown version: err = %v, want a version error", err)
	}
	// Every proper prefix is corrupt, and so is trailing garbage.
	for i := range len(valid) {
		if _, err := decodeList(valid[:i]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", i, len(valid))
		}
	}
	if _, err := decodeList(valid + "x"); !errors.Is(err, errCorrupt) {
		t.Errorf("trailing byte: err = %v, want errCorrupt", err)
	}
	// A huge item count must not allocate before failing.
	huge := string([]byte{codecV1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	if _, err := decodeList(huge); !errors.Is(err, errCorrupt) {
		t.Errorf("huge count: err = %v, want errCorrupt", err)
	}
	if n := testing.AllocsPerRun(10, func() { _, _ = decodeList(huge) }); n > 0 {
		t.Errorf("rejecting a huge count allocated %v times", n)
	}
}

func TestDecodeAllocatesOnlyItems(t *testing.T) {
	s := string(encodeList(nil, codecList(100)))
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeList(s) }); n != 1 {
		t.Errorf("decoding 100 items allocated %v times, want 1", n)
	}
}

// FuzzDecode checks that no input makes the decoder panic or allocate
// unboundedly, and that whatever it accepts encodes back to an equal list.
func FuzzDecode(f *testing.F) {
	f.Add(string(encodeList(nil, codecList(3))))
	f.Add(string(encodeList(nil, domain.RecList{})))
	f.Add("\x01")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := decodeList(s)
		if err != nil {
			return
		}
		again, err := decodeList(string(encodeList(nil, l)))
		if err != nil {
			t.Fatalf("re-encoding an accepted value: %v", err)
		}
		if !again.GeneratedAt.Equal(l.GeneratedAt) || again.Tier != l.Tier || again.ModelVersion != l.ModelVersion || len(again.Items) != len(l.Items) {
			t.Fatalf("round trip changed the list: %+v vs %+v", again, l)
		}
		for i := range l.Items {
			a, b := again.Items[i], l.Items[i]
			if a.MovieID != b.MovieID || a.Title != b.Title || math.Float64bits(a.Score) != math.Float64bits(b.Score) {
				t.Fatalf("item %d changed: %+v vs %+v", i, a, b)
			}
		}
	})
}

// BenchmarkCodec compares the binary format with encoding/json on a
// 100-item list (the walk's default depth), for the record.
func BenchmarkCodec(b *testing.B) {
	l := codecList(100)
	bin := string(encodeList(nil, l))
	js, err := json.Marshal(l)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeList(make([]byte, 0, encodedLen(l)), l)
		}
		b.ReportMetric(float64(len(bin)), "bytes")
	})
	b.Run("binary/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeList(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(l); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
	b.Run("json/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got domain.RecList
			if err := json.Unmarshal(js, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
