package domain

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every validation failure in this package, so
// callers can tell bad input from faults with errors.Is.
var ErrInvalid = errors.New("invalid input")

// FieldError says which field of an input is wrong and why. Field uses the
// JSON name of the field (for example "movie_id"), so the HTTP edge can turn
// it into a problem-document location without a mapping table.
type FieldError struct {
	Field   string
	Message string
	Value   any
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// FieldErrors collects every problem of one input, so a client sees them all
// at once instead of fixing one field per round trip.
type FieldErrors []*FieldError

// Error implements error.
func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes FieldErrors match ErrInvalid.
func (es FieldErrors) Unwrap() error { return ErrInvalid }

// add appends a field error and returns the slice, for terse validators.
func (es FieldErrors) add(field, msg string, value any) FieldErrors {
	return append(es, &FieldError{Field: field, Message: msg, Value: value})
}

// err returns nil for an empty list so validators can `return errs.err()`.
func (es FieldErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
