package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/domain"
)

// TestOpenDoesNotEchoABadURL: a connection string pgx cannot parse is
// refused with the reason, never with the string or a piece of it (pgx's
// own error quotes the string, masking passwords only where it can tell
// them; the errors it wraps quote parts of it). No server is needed.
func TestOpenDoesNotEchoABadURL(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Pw"
	tests := []struct {
		name, url, reason string
	}{
		{"keyword/value, bad port", "host=db user=u password=" + secret + " port=" + secret, "invalid port"},
		{"keyword/value, a word without =", "host=db user=u " + secret, "invalid keyword/value"},
		{"keyword/value, unterminated quote", "host=db password='" + secret, "unterminated quoted string"},
		{"keyword/value, NUL", "host=db password=" + secret + "\x00", "NUL"},
		{"URL, bad port", "postgres://u:" + secret + "@h:" + secret + "/db", "invalid port"},
		{"URL, bad userinfo", "postgres://u:" + secret + "%zz@h/db", "failed to parse as URL"},
		{"URL, bad pool setting", "postgres://u:" + secret + "@h/db?pool_max_conns=" + secret, "invalid syntax"},
		{"URL, bad option value", "postgres://u:" + secret + "@h/db?target_session_attrs=" + secret, "unknown target_session_attrs value"},
		{"URL, bad timeout", "postgres://u@h/db?connect_timeout=" + secret, "invalid connect_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.Open(context.Background(), tt.url)
			if err == nil || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("Open: %v, want an error wrapping domain.ErrInvalid", err)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "host=db") || strings.Contains(msg, "u:") {
				t.Fatalf("the error quotes the connection string: %s", msg)
			}
			if !strings.Contains(msg, tt.reason) {
				t.Fatalf("the error %q does not give the reason %q", msg, tt.reason)
			}
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), secret) {
					t.Fatalf("a wrapped error quotes the string: %v", e)
				}
			}
		})
	}
}
