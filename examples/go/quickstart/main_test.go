package main

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/bootstrap"
)

// TestRun runs the example against an embedded Marquee.
func TestRun(t *testing.T) {
	env := map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DEMO_USERS": "50"}
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
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		cleanup()
	})

	var out strings.Builder
	if err := run(t.Context(), app.URL(), "example-user", log.New(&out, "", 0)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"before (tier popular", "clicked ", "after (tier "} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
