package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// SchemaVersion is the version of the record value format this package
// writes and the only one it reads. A change that old consumers cannot read
// gets a new version, so they can say exactly why they skip a record.
const SchemaVersion = 1

// ErrBadRecord marks a record value that is not a valid interaction of a
// known schema version.
var ErrBadRecord = errors.New("kafka: bad record")

// wireEvent is the JSON record value. Required fields are pointers so that
// a missing field is told apart from a zero one.
type wireEvent struct {
	V          *int       `json:"v"`
	EventID    string     `json:"event_id"`
	UserID     string     `json:"user_id"`
	MovieID    string     `json:"movie_id"`
	Type       string     `json:"type"`
	Value      *float64   `json:"value,omitempty"`
	Weight     *float64   `json:"weight"`
	Time       *time.Time `json:"ts"`
	RecLogID   string     `json:"rec_log_id,omitempty"`
	IngestedAt *time.Time `json:"ingested_at"`
}

// Encode renders ev as a record value. It applies the same checks as
// Decode, so a record this package writes is always one it can read.
func Encode(ev domain.Interaction) ([]byte, error) {
	v := SchemaVersion
	w := wireEvent{
		V:          &v,
		EventID:    ev.EventID,
		UserID:     string(ev.UserID),
		MovieID:    string(ev.MovieID),
		Type:       string(ev.Type),
		Value:      ev.Value,
		Weight:     &ev.Weight,
		Time:       &ev.Time,
		RecLogID:   ev.RecLogID,
		IngestedAt: &ev.IngestedAt,
	}
	if _, err := w.interaction(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("%w: event %q: %w", ErrBadRecord, ev.EventID, err)
	}
	return b, nil
}

// Decode parses a record value written by Encode. Any deviation from the
// schema is an error wrapping ErrBadRecord.
func Decode(b []byte) (domain.Interaction, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireEvent
	if err := dec.Decode(&w); err != nil {
		return domain.Interaction{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Interaction{}, fmt.Errorf("%w: data after the JSON object", ErrBadRecord)
	}
	return w.interaction()
}

// interaction validates w and converts it. Times come back in UTC whatever
// offset the text carried.
func (w *wireEvent) interaction() (domain.Interaction, error) {
	bad := func(format string, args ...any) (domain.Interaction, error) {
		return domain.Interaction{}, fmt.Errorf("%w: event %q: %s", ErrBadRecord, w.EventID, fmt.Sprintf(format, args...))
	}
	switch {
	case w.V == nil:
		return bad("no schema version")
	case *w.V != SchemaVersion:
		return bad("schema version %d, want %d", *w.V, SchemaVersion)
	case w.Weight == nil || w.Time == nil || w.IngestedAt == nil:
		return bad("weight, ts and ingested_at are required")
	case math.IsNaN(*w.Weight) || math.IsInf(*w.Weight, 0):
		return bad("weight is not finite")
	case w.Value != nil && (math.IsNaN(*w.Value) || math.IsInf(*w.Value, 0)):
		return bad("value is not finite")
	case w.Time.IsZero() || w.IngestedAt.IsZero():
		return bad("ts and ingested_at must be set")
	}
	if msg := wireIDProblem(w.EventID); msg != "" {
		return bad("event_id %s", msg)
	}
	if msg := wireIDProblem(w.RecLogID); w.RecLogID != "" && msg != "" {
		return bad("rec_log_id %s", msg)
	}
	user, err := domain.ParseUserID(w.UserID)
	if err != nil {
		return bad("%v", err)
	}
	movie, err := domain.ParseMovieID(w.MovieID)
	if err != nil {
		return bad("%v", err)
	}
	typ, err := domain.ParseEventType(w.Type)
	if err != nil {
		return bad("%v", err)
	}
	return domain.Interaction{
		EventID:    w.EventID,
		UserID:     user,
		MovieID:    movie,
		Type:       typ,
		Value:      w.Value,
		Weight:     *w.Weight,
		Time:       w.Time.UTC(),
		RecLogID:   w.RecLogID,
		IngestedAt: w.IngestedAt.UTC(),
	}, nil
}

// wireIDProblem says what is wrong with an event or rec-log id, or returns
// "". They follow the rule of every id (domain.IDPattern), which the domain
// exports as ParseUserID.
func wireIDProblem(id string) string {
	_, err := domain.ParseUserID(id)
	if fe := (*domain.FieldError)(nil); errors.As(err, &fe) {
		return fe.Message
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
