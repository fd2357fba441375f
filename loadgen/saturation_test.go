package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestSaturationShedBackoff: a worker that gets 503 waits ShedBackoff
// before its next request, as a client honouring Retry-After; without it,
// it retries at once. The sheds are counted apart, not as errors.
func TestSaturationShedBackoff(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/recommendations" {
			hits.Add(1)
		}
		w.Header().Set("Retry-After", "1")
		http.Error(w, "at capacity", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := SaturationConfig{Connections: 1, Duration: 600 * time.Millisecond, Users: []string{"u"}}
	run := func(backoff time.Duration) SaturationResult {
		cfg.ShedBackoff = backoff
		hits.Store(0)
		res, err := Saturation(context.Background(), NewClient(srv.URL, nil), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors != 0 || res.Shed != hits.Load() {
			t.Fatalf("shed %d, errors %d, requests %d: every 503 is a shed", res.Shed, res.Errors, hits.Load())
		}
		return res
	}
	// 600 ms at one request per 250 ms: 3 requests at most, however slow
	// the machine.
	if res := run(250 * time.Millisecond); res.Shed > 3 || res.Shed == 0 {
		t.Fatalf("with a 250 ms backoff: %d requests in 600 ms", res.Shed)
	}
	if res := run(0); res.Shed <= 3 {
		t.Fatalf("without a backoff: only %d requests in 600 ms", res.Shed)
	}
}
