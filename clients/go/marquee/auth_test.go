package marquee_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

// TestWithAPIKey talks to a node that requires keys: without one the
// answer is a 401 problem, with a key of the wrong scope a 403, with the
// right one the operation's answer.
func TestWithAPIKey(t *testing.T) {
	const readKey, ingestKey = "read-key-0123456789abcdef0123456789", "ingest-key-0123456789abcdef01234567"
	env := map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DEMO_USERS": "50", "MARQUEE_TRAIN_CRON": "off",
		"MARQUEE_API_KEYS": "reader:read:" + readKey + ",events:ingest:" + ingestKey}
	cfg, err := bootstrap.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	app, cleanup, err := bootstrap.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		cleanup()
	})

	popular := func(opts ...marquee.ClientOption) *marquee.GetPopularResponse {
		t.Helper()
		c, err := marquee.NewClientWithResponses(app.URL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.GetPopularWithResponse(t.Context(), &marquee.GetPopularParams{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := popular(); r.StatusCode() != http.StatusUnauthorized || r.ApplicationProblemJSON401 == nil ||
		!strings.HasPrefix(r.HTTPResponse.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("without a key: %d %s", r.StatusCode(), r.Body)
	}
	if r := popular(marquee.WithAPIKey(ingestKey)); r.StatusCode() != http.StatusForbidden || r.ApplicationProblemJSON403 == nil {
		t.Fatalf("with the ingest key: %d %s", r.StatusCode(), r.Body)
	}
	r, err := marquee.Check(popular(marquee.WithAPIKey(readKey)), nil)
	if err != nil || len(r.JSON200.Items) == 0 {
		t.Fatalf("with the read key: %v", err)
	}
}
