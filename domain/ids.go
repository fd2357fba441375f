package domain

import "fmt"

// MaxIDLength bounds user and movie ids. Ids become Kafka keys, Redis keys and
// URL path segments, so they are short, printable and free of separators.
const MaxIDLength = 128

// UserID identifies a user. It is opaque to Marquee (for example "user_123").
type UserID string

// MovieID identifies a movie in the catalog. It is opaque (for example "tt0816692").
type MovieID string

// ParseUserID validates s as a user id.
func ParseUserID(s string) (UserID, error) {
	if err := checkID(s); err != nil {
		return "", &FieldError{Field: "user_id", Message: err.Error(), Value: s}
	}
	return UserID(s), nil
}

// ParseMovieID validates s as a movie id.
func ParseMovieID(s string) (MovieID, error) {
	if err := checkID(s); err != nil {
		return "", &FieldError{Field: "movie_id", Message: err.Error(), Value: s}
	}
	return MovieID(s), nil
}

// IDPattern is the regular expression every id matches; the OpenAPI contract
// publishes it so that clients can validate before sending.
const IDPattern = `^[A-Za-z0-9_.:@-]{1,128}$`

// checkID enforces IDPattern without the regexp engine (it runs on every event).
func checkID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > MaxIDLength:
		return fmt.Errorf("must be at most %d bytes, got %d", MaxIDLength, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '@' || c == '-'
		if !ok {
			return fmt.Errorf("may contain only letters, digits and _ . : @ - (found %q at byte %d)", c, i)
		}
	}
	return nil
}
