package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// SchemaVersion is the major version of the record value format this
// package writes and reads. A reader accepts every minor version of its
// major one ("minor", absent in what this package writes, means 0): a
// minor version only adds fields, which a reader ignores, so a rolling
// upgrade that starts writing a new field never makes an old node refuse
// a record. A change old readers would misread gets a new major version,
// and those readers dead-letter such records with the reason.
const SchemaVersion = 1

// ErrBadRecord marks a record value that is not a valid interaction of a
// known schema version.
var ErrBadRecord = errors.New("kafka: bad record")

// wireEvent is the JSON record value. Required fields are pointers so that
// a missing field is told apart from a zero one.
type wireEvent struct {
	V          *int       `json:"v"`
	Minor      int        `json:"minor,omitempty"`
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

// Decode parses a record value of schema version 1 (any minor version) and
// validates the interaction by the rules every door applies
// (domain.Interaction.Validate): a record produced straight to the topic
// by anyone is held to what the HTTP edge enforces. Unknown fields are
// ignored; any other deviation is an error wrapping ErrBadRecord.
func Decode(b []byte) (domain.Interaction, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
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
	case w.Minor < 0:
		return bad("minor version %d", w.Minor)
	case w.Weight == nil || w.Time == nil || w.IngestedAt == nil:
		return bad("weight, ts and ingested_at are required")
	case w.IngestedAt.IsZero():
		return bad("ingested_at must be set")
	}
	ev := domain.Interaction{
		EventID:    w.EventID,
		UserID:     domain.UserID(w.UserID),
		MovieID:    domain.MovieID(w.MovieID),
		Type:       domain.EventType(w.Type),
		Value:      w.Value,
		Weight:     *w.Weight,
		Time:       w.Time.UTC(),
		RecLogID:   w.RecLogID,
		IngestedAt: w.IngestedAt.UTC(),
	}
	if err := ev.Validate(); err != nil {
		// Both sentinels: a bad record, and bad because it is invalid.
		return domain.Interaction{}, fmt.Errorf("%w: event %q: %w", ErrBadRecord, w.EventID, err)
	}
	return ev, nil
}
