package kafka_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
)

// validJSON is a well-formed record value of schema version 1.
const validJSON = `{"v":1,"event_id":"e-1","user_id":"user_1","movie_id":"tt0816692","type":"rating",` +
	`"value":4.5,"weight":3.2,"ts":"2025-06-01T10:00:00.123456Z","rec_log_id":"r-9","ingested_at":"2025-06-01T10:00:01Z"}`

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	ts := time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)
	value := 4.5
	zero := 0.0
	tests := []struct {
		name string
		ev   domain.Interaction
	}{
		{"minimal", domain.Interaction{EventID: "e-1", UserID: "user_1", MovieID: "m1", Type: domain.EventView, Weight: 1, Time: ts, IngestedAt: ts}},
		{"every field", domain.Interaction{EventID: "e-2", UserID: "u@x.org", MovieID: "tt0816692", Type: domain.EventRating,
			Value: &value, Weight: 3.2, Time: ts, RecLogID: "r-9", IngestedAt: ts.Add(time.Second)}},
		{"zero value kept apart from no value", domain.Interaction{EventID: "e-3", UserID: "user_1", MovieID: "m1",
			Type: domain.EventWatchComplete, Value: &zero, Weight: 5, Time: ts, IngestedAt: ts}},
		{"negative weight", domain.Interaction{EventID: "e-4", UserID: "user_1", MovieID: "m1", Type: domain.EventDislike,
			Weight: -1.5, Time: ts, IngestedAt: ts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := kafka.Encode(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), `{"v":1,`) {
				t.Errorf("value %s does not lead with the schema version", b)
			}
			got, err := kafka.Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.ev) {
				t.Errorf("round trip changed the event:\n got %+v\nwant %+v", got, tt.ev)
			}
		})
	}
}

func TestDecodeNormalizesTimesToUTC(t *testing.T) {
	t.Parallel()
	ev, err := kafka.Decode([]byte(strings.Replace(validJSON, "10:00:00.123456Z", "12:00:00.123456+02:00", 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 6, 1, 10, 0, 0, 123456000, time.UTC)
	if ev.Time != want {
		t.Errorf("Time = %v, want %v", ev.Time, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value string }{
		{"empty", ``},
		{"not JSON", `hello`},
		{"array", `[1]`},
		{"no version", strings.Replace(validJSON, `"v":1,`, ``, 1)},
		{"future major version", strings.Replace(validJSON, `"v":1`, `"v":2`, 1)},
		{"negative minor version", strings.Replace(validJSON, `"v":1,`, `"v":1,"minor":-1,`, 1)},
		{"trailing data", validJSON + `{}`},
		{"bad user id", strings.Replace(validJSON, `"user_1"`, `"user 1"`, 1)},
		{"empty movie id", strings.Replace(validJSON, `"tt0816692"`, `""`, 1)},
		{"bad event id", strings.Replace(validJSON, `"e-1"`, `"e/1"`, 1)},
		{"bad rec log id", strings.Replace(validJSON, `"r-9"`, `"r 9"`, 1)},
		{"unknown type", strings.Replace(validJSON, `"rating"`, `"purchase"`, 1)},
		{"no weight", strings.Replace(validJSON, `"weight":3.2,`, ``, 1)},
		{"weight as string", strings.Replace(validJSON, `"weight":3.2`, `"weight":"3.2"`, 1)},
		{"number out of range", strings.Replace(validJSON, `"value":4.5`, `"value":1e999`, 1)},
		{"no timestamp", strings.Replace(validJSON, `"ts":"2025-06-01T10:00:00.123456Z",`, ``, 1)},
		{"zero timestamp", strings.Replace(validJSON, `2025-06-01T10:00:00.123456Z`, `0001-01-01T00:00:00Z`, 1)},
		{"bad timestamp", strings.Replace(validJSON, `2025-06-01T10:00:00.123456Z`, `yesterday`, 1)},
		{"weight past the bound", strings.Replace(validJSON, `"weight":3.2`, `"weight":1e300`, 1)},
		{"weight against the type", strings.Replace(validJSON, `"weight":3.2`, `"weight":-3.2`, 1)},
		{"rating off the scale", strings.Replace(validJSON, `"value":4.5`, `"value":50`, 1)},
		{"NUL in the user id", strings.Replace(validJSON, `"user_1"`, `"user_\u0000"`, 1)},
		{"no ingestion time", strings.Replace(validJSON, `,"ingested_at":"2025-06-01T10:00:01Z"`, ``, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := kafka.Decode([]byte(tt.value)); !errors.Is(err, kafka.ErrBadRecord) {
				t.Errorf("Decode(%s) = %v, want ErrBadRecord", tt.value, err)
			}
		})
	}
	if _, err := kafka.Decode([]byte(validJSON)); err != nil {
		t.Fatalf("the valid seed does not decode: %v", err)
	}
}

// A record of a later minor version, or with fields this version does not
// know, is read for what it knows: a rolling upgrade that adds a field
// must not make the old nodes refuse (and lose) accepted events.
func TestDecodeToleratesNewerMinorVersions(t *testing.T) {
	t.Parallel()
	want, err := kafka.Decode([]byte(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"unknown field":         strings.Replace(validJSON, `"v":1,`, `"v":1,"extra":true,`, 1),
		"unknown nested object": strings.Replace(validJSON, `"v":1,`, `"v":1,"context":{"device":"tv","ab":[1,2]},`, 1),
		"newer minor version":   strings.Replace(validJSON, `"v":1,`, `"v":1,"minor":3,"session_id":"s-1",`, 1),
	} {
		got, err := kafka.Decode([]byte(value))
		if err != nil {
			t.Errorf("%s: Decode(%s) = %v", name, value, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestEncodeRejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	ts := time.Now().UTC()
	nan := 0.0
	nan /= nan
	tests := []struct {
		name string
		ev   domain.Interaction
	}{
		{"empty", domain.Interaction{}},
		{"no user", domain.Interaction{EventID: "e", MovieID: "m", Type: domain.EventClick, Time: ts, IngestedAt: ts}},
		{"NaN value", domain.Interaction{EventID: "e", UserID: "u", MovieID: "m", Type: domain.EventClick, Value: &nan, Time: ts, IngestedAt: ts}},
		{"no time", domain.Interaction{EventID: "e", UserID: "u", MovieID: "m", Type: domain.EventClick, IngestedAt: ts}},
		{"weight past the bound", domain.Interaction{EventID: "e", UserID: "u", MovieID: "m", Type: domain.EventClick, Weight: 1e300, Time: ts, IngestedAt: ts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := kafka.Encode(tt.ev); !errors.Is(err, kafka.ErrBadRecord) {
				t.Errorf("Encode = %v, want ErrBadRecord", err)
			}
		})
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// survives a round trip unchanged. Run it with a bounded minimization,
//
//	go test -run '^$' -fuzz FuzzDecode -fuzzminimizetime 200x ./adapters/kafka/
//
// because fmt's and encoding/json's sync.Pools make coverage depend on the
// garbage collector, and minimizing such flickering inputs otherwise stalls
// the fuzzer for up to a minute each.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validJSON))
	f.Add([]byte(`{"v":1,"event_id":"e","user_id":"u","movie_id":"m","type":"click","weight":2,"ts":"2025-01-01T00:00:00Z","ingested_at":"2025-01-01T00:00:00+01:00"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"value":null,"weight":-0,"ts":"9999-12-31T23:59:59.999999999Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := kafka.Decode(b)
		if err != nil {
			if !errors.Is(err, kafka.ErrBadRecord) {
				t.Fatalf("Decode error %v does not wrap ErrBadRecord", err)
			}
			return
		}
		again, err := kafka.Encode(ev)
		if err != nil {
			t.Fatalf("Encode of a decoded event: %v", err)
		}
		ev2, err := kafka.Decode(again)
		if err != nil {
			t.Fatalf("Decode of a re-encoded event: %v", err)
		}
		if !reflect.DeepEqual(ev, ev2) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
		}
	})
}
