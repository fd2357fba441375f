package marquee_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/marquee-recsys/marquee/bootstrap"
)

// baseURL is where the tests and examples find Marquee: in real code, the
// address of a node such as "http://127.0.0.1:8080"; here, the embedded
// node TestMain starts on a free port.
var baseURL string

// TestMain runs one embedded Marquee (in-process Kafka and stores, a small
// demo catalog and history) for every test and example of the package.
func TestMain(m *testing.M) {
	os.Exit(runWithMarquee(m))
}

func runWithMarquee(m *testing.M) int {
	env := map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DEMO_USERS": "100"}
	cfg, err := bootstrap.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, cleanup, err := bootstrap.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	baseURL = app.URL()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		code = 1
	}
	cleanup()
	return code
}
