package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// lines decodes the JSON records written to b.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestThrottleFlood is the outage of the issue: 10,000 identical
// warnings, as fast as a logger makes them, give a handful of lines, and
// none is lost from the count.
func TestThrottleFlood(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	log := slog.New(NewThrottle(slog.NewJSONHandler(&b, nil), 0))
	for range 10_000 {
		log.Warn("serving without the user's history", "user_id", "u1", "err", "postgres: connection refused")
	}
	got := lines(t, &b)
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("%d lines for 10,000 warnings within a second or so, want 1 to 3", len(got))
	}
	if got[0]["msg"] != "serving without the user's history" || got[0][ThrottleSuppressedKey] != nil {
		t.Fatalf("first line %v", got[0])
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	type rec struct {
		after time.Duration // since t0
		level slog.Level
		msg   string
		attrs []any
	}
	flood := func(n int, every time.Duration, level slog.Level, msg string, attrs ...any) []rec {
		out := make([]rec, n)
		for i := range out {
			out[i] = rec{time.Duration(i) * every, level, msg, attrs}
		}
		return out
	}
	tests := []struct {
		name       string
		records    []rec
		with       []any  // attributes of the logger
		wantLines  int    // lines written
		wantCounts []int  // their suppressed attributes (0: none)
		wantDeps   string // their dependency attributes, joined
	}{
		{name: "10,000 warnings over 25 s: one line per 10 s, each counting those before it",
			records: flood(10_000, 2500*time.Microsecond, slog.LevelWarn, "popular store unavailable"),
			// let through at 0, 10 s, 20 s; 3,999 suppressed between each.
			wantLines: 3, wantCounts: []int{0, 3999, 3999}},
		{name: "errors are limited too",
			records:   flood(100, time.Millisecond, slog.LevelError, "fold-in failed"),
			wantLines: 1, wantCounts: []int{0}},
		{name: "info and debug pass untouched",
			records:   append(flood(50, time.Millisecond, slog.LevelInfo, "started"), flood(50, time.Millisecond, slog.LevelDebug, "tick")...),
			wantLines: 100},
		{name: "each message has its own limit",
			records:   append(flood(10, time.Millisecond, slog.LevelWarn, "a"), flood(10, time.Millisecond, slog.LevelWarn, "b")...),
			wantLines: 2, wantCounts: []int{0, 0}},
		{name: "each dependency has its own limit",
			records: append(append(flood(10, time.Millisecond, slog.LevelWarn, "down", "dependency", "database"),
				flood(10, time.Millisecond, slog.LevelWarn, "down", "dependency", "cache")...),
				rec{11 * time.Second, slog.LevelWarn, "down", []any{"dependency", "database"}}),
			wantLines: 3, wantCounts: []int{0, 0, 9}, wantDeps: "database,cache,database"},
		{name: "the dependency of the logger counts",
			with:      []any{"dependency", "events"},
			records:   append(flood(5, time.Second, slog.LevelWarn, "down"), rec{20 * time.Second, slog.LevelWarn, "down", nil}),
			wantLines: 2, wantCounts: []int{0, 4}, wantDeps: "events,events"},
		{name: "a count waits for the next line let through",
			records: []rec{{0, slog.LevelWarn, "x", nil}, {time.Second, slog.LevelWarn, "x", nil},
				{time.Minute, slog.LevelWarn, "x", nil}, {time.Minute + time.Second, slog.LevelWarn, "x", nil}, {2 * time.Minute, slog.LevelWarn, "x", nil}},
			wantLines: 3, wantCounts: []int{0, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			var h slog.Handler = NewThrottle(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}), 10*time.Second)
			if tt.with != nil {
				h = slog.New(h).With(tt.with...).Handler()
			}
			for _, r := range tt.records {
				sr := slog.NewRecord(t0.Add(r.after), r.level, r.msg, 0)
				sr.Add(r.attrs...)
				if err := h.Handle(context.Background(), sr); err != nil {
					t.Fatal(err)
				}
			}
			got := lines(t, &b)
			if len(got) != tt.wantLines {
				t.Fatalf("%d lines, want %d", len(got), tt.wantLines)
			}
			var deps []string
			for i, want := range tt.wantCounts {
				n, _ := got[i][ThrottleSuppressedKey].(float64)
				if int(n) != want {
					t.Errorf("line %d: suppressed=%v, want %d (%v)", i, got[i][ThrottleSuppressedKey], want, got[i])
				}
				if d, ok := got[i][ThrottleDependencyKey].(string); ok {
					deps = append(deps, d)
				}
			}
			if d := strings.Join(deps, ","); d != tt.wantDeps {
				t.Errorf("dependencies %q, want %q", d, tt.wantDeps)
			}
		})
	}
}

// TestThrottleRemembersBoundedly: more distinct warnings than it tracks
// are let through rather than remembered without bound.
func TestThrottleRemembersBoundedly(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	h := NewThrottle(slog.NewJSONHandler(&b, nil), time.Minute)
	for i := range maxThrottled + 100 {
		r := slog.NewRecord(t0, slog.LevelWarn, "warning "+time.Duration(i).String(), 0)
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(lines(t, &b)); n != maxThrottled+100 {
		t.Fatalf("%d lines for %d distinct warnings", n, maxThrottled+100)
	}
	if n := len(h.state.seen); n > maxThrottled {
		t.Fatalf("remembers %d warnings, more than %d", n, maxThrottled)
	}
}
