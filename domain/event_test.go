package domain

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewInteraction(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	at := func(d time.Time) *time.Time { return &d }
	valid := EventInput{EventID: "e1", UserID: "user_123", MovieID: "tt0816692", Type: "click"}
	tests := []struct {
		name       string
		mutate     func(*EventInput)
		wantFields []string // fields named by the error; nil means valid
		wantWeight float64
	}{
		{"click", func(*EventInput) {}, nil, 2},
		{"rating weighs its value", func(e *EventInput) { e.Type, e.Value = "rating", f(4.5) }, nil, 4.5},
		{"dislike is negative", func(e *EventInput) { e.Type = "dislike" }, nil, -4},
		{"view with seconds watched", func(e *EventInput) { e.Type, e.Value = "view", f(3600) }, nil, 1},
		{"timestamp at the future limit", func(e *EventInput) { e.Timestamp = at(now.Add(MaxFutureSkew)) }, nil, 2},
		{"unknown type", func(e *EventInput) { e.Type = "purchase" }, []string{"type"}, 0},
		{"empty type", func(e *EventInput) { e.Type = "" }, []string{"type"}, 0},
		{"empty ids", func(e *EventInput) { e.UserID, e.MovieID, e.EventID = "", "", "" }, []string{"event_id", "user_id", "movie_id"}, 0},
		{"over-long user", func(e *EventInput) { e.UserID = strings.Repeat("u", MaxIDLength+1) }, []string{"user_id"}, 0},
		{"id at the length limit", func(e *EventInput) { e.UserID = strings.Repeat("u", MaxIDLength) }, nil, 2},
		{"space in movie id", func(e *EventInput) { e.MovieID = "tt 1" }, []string{"movie_id"}, 0},
		{"slash in user id", func(e *EventInput) { e.UserID = "a/b" }, []string{"user_id"}, 0},
		{"non-ascii id", func(e *EventInput) { e.UserID = "usér" }, []string{"user_id"}, 0},
		{"rating without value", func(e *EventInput) { e.Type = "rating" }, []string{"value"}, 0},
		{"rating too high", func(e *EventInput) { e.Type, e.Value = "rating", f(5.5) }, []string{"value"}, 0},
		{"rating too low", func(e *EventInput) { e.Type, e.Value = "rating", f(0) }, []string{"value"}, 0},
		{"NaN value", func(e *EventInput) { e.Value = f(math.NaN()) }, []string{"value"}, 0},
		{"negative value", func(e *EventInput) { e.Value = f(-1) }, []string{"value"}, 0},
		{"future timestamp", func(e *EventInput) { e.Timestamp = at(now.Add(MaxFutureSkew + time.Second)) }, []string{"timestamp"}, 0},
		{"timestamp before 1995", func(e *EventInput) { e.Timestamp = at(EarliestEventTime.Add(-time.Second)) }, []string{"timestamp"}, 0},
		{"bad rec_log_id", func(e *EventInput) { e.RecLogID = "has space" }, []string{"rec_log_id"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := valid
			tt.mutate(&in)
			ev, err := NewInteraction(in, DefaultWeights(), now)
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if ev.Weight != tt.wantWeight || ev.Time.IsZero() || !ev.IngestedAt.Equal(now) {
					t.Fatalf("event = %+v, want weight %v", ev, tt.wantWeight)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) != len(tt.wantFields) {
				t.Fatalf("err = %v, want errors on %v", err, tt.wantFields)
			}
			for i, f := range tt.wantFields {
				if fe[i].Field != f {
					t.Errorf("error %d names %q, want %q", i, fe[i].Field, f)
				}
			}
		})
	}
}

func TestMissingTimestampIsServerTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	ev, err := NewInteraction(EventInput{EventID: "e", UserID: "u", MovieID: "m", Type: "view"}, DefaultWeights(), now)
	if err != nil || !ev.Time.Equal(now) || ev.Time.Location() != time.UTC {
		t.Fatalf("ev.Time = %v (%v), want %v in UTC", ev.Time, err, now)
	}
}

func TestParseWeights(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr bool
		check   func(Weights) bool
	}{
		{"", false, func(w Weights) bool { return w == DefaultWeights() }},
		{"view=0.5, like=6", false, func(w Weights) bool { return w.View == 0.5 && w.Like == 6 && w.Click == 2 }},
		{"rating=2", false, func(w Weights) bool { return w.For(EventRating, ptr(3)) == 6 }},
		{"dislike=1", true, nil},
		{"view=-1", true, nil},
		{"view=0", true, nil},
		{"purchase=3", true, nil},
		{"view", true, nil},
		{"view=NaN", true, nil},
		{"view=abc", true, nil},
		{"view=1e39", true, nil},
		{"like=100", false, func(w Weights) bool { return w.Like == 100 }},
		{"like=100.5", true, nil},
		{"dislike=-101", true, nil},
		{"rating=20", false, func(w Weights) bool { return w.For(EventRating, ptr(MaxRating)) == MaxAbsWeight }},
		{"rating=20.1", true, nil},
	}
	for _, tt := range tests {
		w, err := ParseWeights(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseWeights(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && !tt.check(w) {
			t.Errorf("ParseWeights(%q) = %+v", tt.in, w)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func TestPositiveMinRating(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		min   float64
		typ   EventType
		value *float64
		want  float64
	}{
		{"off: every rating weighs its value", 0, EventRating, ptr(1), 1},
		{"at the threshold", 4, EventRating, ptr(4), 4},
		{"above it", 4, EventRating, ptr(4.5), 4.5},
		{"below it: seen, no preference", 4, EventRating, ptr(3.5), 0},
		{"the lowest rating", 4, EventRating, ptr(0.5), 0},
		{"other types keep their weight", 4, EventLike, nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := DefaultWeights()
			w.PositiveMinRating = tt.min
			if got := w.For(tt.typ, tt.value); got != tt.want {
				t.Errorf("For = %g, want %g", got, tt.want)
			}
			in := EventInput{EventID: "e1", UserID: "u1", MovieID: "m1", Type: string(tt.typ), Value: tt.value}
			ev, err := NewInteraction(in, w, time.Now())
			if err != nil || ev.Weight != tt.want {
				t.Errorf("NewInteraction: weight %g, %v; want %g", ev.Weight, err, tt.want)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("the stored interaction does not validate: %v", err)
			}
		})
	}
}

func TestMovieValidate(t *testing.T) {
	t.Parallel()
	ok := Movie{ID: "dune-2021", Title: "Dune", Year: 2021, Genres: []string{"Sci-Fi"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Movie{ID: "", Title: " ", Year: 1500, Genres: []string{""}}
	var fe FieldErrors
	if err := bad.Validate(); !errors.As(err, &fe) || len(fe) != 4 {
		t.Fatalf("err = %v, want 4 field errors", err)
	}
}

// Validate is the rule of every door: a record read from the topic or an
// imported row obeys what NewInteraction guarantees for HTTP.
func TestInteractionValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	valid := Interaction{EventID: "e1", UserID: "u1", MovieID: "m1", Type: EventClick, Weight: 2, Time: now, IngestedAt: now}
	tests := []struct {
		name   string
		mutate func(*Interaction)
		field  string // "" means valid
	}{
		{"valid", func(*Interaction) {}, ""},
		{"weight at the bound", func(e *Interaction) { e.Weight = MaxAbsWeight }, ""},
		{"weight 1e300", func(e *Interaction) { e.Weight = 1e300 }, "weight"},
		{"weight just past the bound", func(e *Interaction) { e.Weight = MaxAbsWeight + 0.001 }, "weight"},
		{"infinite weight", func(e *Interaction) { e.Weight = math.Inf(1) }, "weight"},
		{"NaN weight", func(e *Interaction) { e.Weight = math.NaN() }, "weight"},
		{"negative click", func(e *Interaction) { e.Weight = -2 }, "weight"},
		{"zero weight", func(e *Interaction) { e.Weight = 0 }, "weight"},
		{"positive dislike", func(e *Interaction) { e.Type = EventDislike }, "weight"},
		{"dislike", func(e *Interaction) { e.Type, e.Weight = EventDislike, -4 }, ""},
		{"unknown type", func(e *Interaction) { e.Type = "purchase" }, "type"},
		{"rating without value", func(e *Interaction) { e.Type = EventRating }, "value"},
		{"rating off the scale", func(e *Interaction) { e.Type, e.Value = EventRating, ptr(7) }, "value"},
		{"rating below the positive threshold: weight 0", func(e *Interaction) { e.Type, e.Value, e.Weight = EventRating, ptr(2), 0 }, ""},
		{"negative rating", func(e *Interaction) { e.Type, e.Value, e.Weight = EventRating, ptr(2), -2 }, "weight"},
		{"bad user id", func(e *Interaction) { e.UserID = "a b" }, "user_id"},
		{"NUL in movie id", func(e *Interaction) { e.MovieID = "m\x00" }, "movie_id"},
		{"over-long event id", func(e *Interaction) { e.EventID = strings.Repeat("e", MaxIDLength+1) }, "event_id"},
		{"bad rec_log_id", func(e *Interaction) { e.RecLogID = "x/y" }, "rec_log_id"},
		{"no time", func(e *Interaction) { e.Time = time.Time{} }, "ts"},
		{"before 1995", func(e *Interaction) { e.Time = EarliestEventTime.Add(-time.Hour) }, "ts"},
		{"far after ingestion", func(e *Interaction) { e.Time = now.Add(time.Hour) }, "ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := valid
			tt.mutate(&ev)
			err := ev.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != tt.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want one error on %q", err, tt.field)
			}
		})
	}
}
