package openapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/auth"
)

const (
	opsSecret    = "ops-secret-0123456789abcdefghijklmnop"
	readerSecret = "reader-secret-0123456789abcdefghijklm"
)

// TestReadiness checks /readyz: states for anyone, reasons only for a key
// with the admin scope, and a 503 naming the failing dependencies.
func TestReadiness(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.7:9092: connect: connection refused") }
	up := func(context.Context) error { return nil }
	keys, err := auth.ParseKeys("ops:admin:" + opsSecret + ",web:read:" + readerSecret)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := auth.NewGuard(auth.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		checks   []Check
		key      string
		status   int
		body     []string // the answer holds these
		withheld []string // and not these
	}{
		{name: "ready", checks: []Check{{Name: "events", Required: true, Ping: up}, {Name: "cache", Ping: up}},
			status: 200, body: []string{`"status":"ready"`, `"events":"ok"`, `"cache":"ok"`}},
		{name: "degraded, anyone", checks: []Check{{Name: "events", Required: true, Ping: up}, {Name: "archive", Ping: down}},
			status: 200, body: []string{`"status":"degraded"`, `"archive":"down"`, `"events":"ok"`}, withheld: []string{"10.0.0.7", "dial"}},
		{name: "degraded, a read key", checks: []Check{{Name: "events", Required: true, Ping: up}, {Name: "archive", Ping: down}},
			key: readerSecret, status: 200, body: []string{`"archive":"down"`}, withheld: []string{"10.0.0.7"}},
		{name: "degraded, an admin key", checks: []Check{{Name: "events", Required: true, Ping: up}, {Name: "archive", Ping: down}},
			key: opsSecret, status: 200, body: []string{`"status":"degraded"`, `"archive":"down: dial tcp 10.0.0.7:9092`}},
		{name: "not ready, anyone", checks: []Check{{Name: "events", Required: true, Ping: down}, {Name: "database", Required: true, Ping: down}, {Name: "cache", Ping: up}},
			status: 503, body: []string{`"detail":"not ready; down: events, database"`, `"instance":"urn:marquee:error:`}, withheld: []string{"10.0.0.7", "dial", `"errors"`}},
		{name: "not ready, an admin key", checks: []Check{{Name: "events", Required: true, Ping: down}},
			key: opsSecret, status: 503, body: []string{`"detail":"not ready; down: events"`, `"location":"checks.events"`, `dial tcp 10.0.0.7:9092`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logSink{}
			observed := map[string]bool{}
			var mu sync.Mutex
			api, _ := newGuardedAPI(t, guard, func(d *Deps) {
				d.Ready, d.Logger = tt.checks, logs.logger()
				d.OnChecked = func(name string, ok bool) { mu.Lock(); observed[name] = ok; mu.Unlock() }
			})
			var args []any
			if tt.key != "" {
				args = append(args, "Authorization: Bearer "+tt.key)
			}
			resp := wrap(api.Get("/readyz", args...))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.body)
			}
			for _, s := range tt.body {
				if !strings.Contains(resp.body, s) {
					t.Errorf("the answer lacks %s: %s", s, resp.body)
				}
			}
			for _, s := range tt.withheld {
				if strings.Contains(resp.body, s) {
					t.Errorf("the answer holds %s: %s", s, resp.body)
				}
			}
			for _, c := range tt.checks {
				if want := c.Ping(context.Background()) == nil; observed[c.Name] != want {
					t.Errorf("observed %s up=%v, want %v", c.Name, observed[c.Name], want)
				}
			}
			if tt.status == 503 {
				id := resp.Header.Get(HeaderCorrelationID)
				if recs := logs.records(t, id); len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]["err"]), "10.0.0.7:9092") {
					t.Errorf("the log under %q: %v, want the reasons once", id, recs)
				}
			}
		})
	}
	api, _ := newAPI(t)
	if resp := api.Get("/healthz"); resp.Code != 200 {
		t.Fatalf("healthz %d", resp.Code)
	}
}
