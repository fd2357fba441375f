package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJSONString(t *testing.T) {
	t.Parallel()
	body := []byte(`{"user_id":"u","items":[{"rank":1,"movie_id":"m","title":"The \"tier\": a film","score":1}],"tier":"cache","source_tier":"vector"}`)
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{`"tier":`, "cache", true},
		{`"source_tier":`, "vector", true},
		{`"user_id":`, "u", true},
		{`"missing":`, "", false},
		{`"items":`, "", false}, // not a string
	} {
		if got, ok := jsonString(body, c.key); got != c.want || ok != c.ok {
			t.Errorf("jsonString(%s) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if n, ok := jsonInt([]byte(`{"accepted":100,"rejected":0,"results":[{"status":"accepted"}]}`), `"accepted":`); n != 100 || !ok {
		t.Errorf("jsonInt = %d, %v; want 100", n, ok)
	}
}

// TestTierBucketing checks that each answer counts under the tier it
// names, through the raw HTTP client, whether the body comes with a
// length or chunked (net/http chunks bodies over 2 KiB).
func TestTierBucketing(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user_id")
		tier := strings.TrimPrefix(user, "u-")
		pad := ""
		if r.URL.Query().Get("n") == "100" {
			pad = strings.Repeat("x", 10_000) // forces chunked encoding
		}
		if tier == "missing" {
			http.Error(w, `{"detail":"no tier could answer"}`, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"user_id":%q,"items":[{"rank":1,"movie_id":"m","title":%q}],"tier":%q}`, user, pad, tier)
	}))
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, http.Header{"Authorization": {"Bearer k"}})
	t.Cleanup(c.Close)
	if c.raw == nil {
		t.Fatal("plain http should use the raw client")
	}
	rec := NewRecorder()
	users := []string{"u-cache", "u-vector", "u-cache", "u-batch", "u-popular", "u-cache", "u-missing"}
	for i, u := range users {
		n := 10
		if i%2 == 1 {
			n = 100
		}
		tier, err := c.Tier(context.Background(), u, n)
		record(rec, tier, err, 1)
	}
	want := map[string]int64{"cache": 3, "vector": 1, "batch": 1, "popular": 1, ErrorLabel: 1}
	for label, n := range want {
		if got := rec.Count(label); got != n {
			t.Errorf("%s: %d answers, want %d", label, got, n)
		}
	}
	if e := rec.Stats(ErrorLabel, 0); e.Errors != 1 {
		t.Errorf("errors %d, want 1", e.Errors)
	}
	if r, err := c.Recommend(context.Background(), "u-vector", 100); err != nil || r.Tier != "vector" || len(r.IDs()) != 1 {
		t.Errorf("Recommend = %+v, %v", r, err)
	}
}

func TestMetricsParsing(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# HELP marquee_events_applied_total Events.\n# TYPE marquee_events_applied_total counter\n"+
			"marquee_events_applied_total 12345\nmarquee_events_accepted_total 1.2346e+04\n"+
			`marquee_recommendations_total{tier="cache"} 7`+"\n")
	}))
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, nil)
	t.Cleanup(c.Close)
	m, err := c.Metrics(context.Background(), metricApplied, metricAccepted, metricDuplicates)
	if err != nil {
		t.Fatal(err)
	}
	if m[metricApplied] != 12345 || m[metricAccepted] != 12346 {
		t.Fatalf("metrics %v", m)
	}
	if _, ok := m[metricDuplicates]; ok {
		t.Fatal("a series the node does not export was reported")
	}
}
