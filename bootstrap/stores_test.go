package bootstrap

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestOpenStoresDoesNotEchoTheDatabaseURL: a MARQUEE_DATABASE_URL that
// LoadConfig lets through (the key=value form) but pgx cannot parse stops
// the start with the variable and the reason, never the value.
func TestOpenStoresDoesNotEchoTheDatabaseURL(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-db-Pw"
	for _, dsn := range []string{
		"host=127.0.0.1 user=postgres password=" + secret + " port=" + secret,
		"host=127.0.0.1 user=postgres " + secret,
		"postgres://postgres:" + secret + "@127.0.0.1/db?pool_max_conns=" + secret,
	} {
		cfg, err := LoadConfig(func(k string) string {
			return map[string]string{"MARQUEE_DATABASE_URL": dsn, "MARQUEE_INSECURE_DEV": "true"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		_, closeStores, err := OpenStores(context.Background(), cfg, slog.New(slog.DiscardHandler))
		closeStores()
		if err == nil || !strings.HasPrefix(err.Error(), "MARQUEE_DATABASE_URL: ") || strings.Contains(err.Error(), secret) ||
			strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("OpenStores: %v; want an error naming MARQUEE_DATABASE_URL and not quoting it", err)
		}
	}
}
