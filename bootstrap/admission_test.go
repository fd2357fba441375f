package bootstrap

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestAdmissionShedsPastItsBounds: with every slot taken, a request waits
// for one up to its bound and is then shed (503, Retry-After, a problem,
// counted); the admin operations and the probes are never refused.
func TestAdmissionShedsPastItsBounds(t *testing.T) {
	t.Parallel()
	h, release, shed, inflight := heldAdmission(t, 1, 50*time.Millisecond)
	if n := testutil.ToFloat64(inflight); n != 2 {
		t.Fatalf("in flight %v, want 2", n)
	}
	start := time.Now()
	rec := get(h, "/api/recommendations")
	if waited := time.Since(start); rec.Code != http.StatusServiceUnavailable || waited < 50*time.Millisecond {
		t.Fatalf("with every slot taken: %d after %v, want 503 after the 50 ms wait", rec.Code, waited)
	}
	if rec.Header().Get("Retry-After") != "1" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("a shed request's headers: %v", rec.Header())
	}
	for _, path := range []string{"/api/admin/train", "/readyz", "/metrics", "/dashboard/"} {
		if rec := get(h, path); rec.Code != http.StatusOK {
			t.Fatalf("%s was refused: %d", path, rec.Code)
		}
	}
	close(release)
	if n := testutil.ToFloat64(shed); n != 1 {
		t.Fatalf("shed %v, want 1", n)
	}
}

// TestAdmissionQueueIsBounded: past the queue's bound a request is shed
// without waiting (its wait would be a minute), and a slot that frees
// admits the request waiting for it.
func TestAdmissionQueueIsBounded(t *testing.T) {
	t.Parallel()
	h, release, shed, _ := heldAdmission(t, 1, time.Minute)
	waiter := make(chan int, 1)
	go func() { waiter <- get(h, "/api/popular").Code }()
	for h.a.waiting.Load() == 0 { // the waiter is in the queue
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if rec := get(h, "/api/popular"); rec.Code != http.StatusServiceUnavailable || time.Since(start) > 30*time.Second {
		t.Fatalf("past the queue: %d after %v, want 503 without the minute's wait", rec.Code, time.Since(start))
	}
	release <- struct{}{} // a slot frees: the waiting request takes it
	if code := <-waiter; code != http.StatusOK {
		t.Fatalf("the waiting request got %d once a slot was free", code)
	}
	close(release)
	if n := testutil.ToFloat64(shed); n != 1 {
		t.Fatalf("shed %v, want 1", n)
	}
}

// heldAdmission is an admission control of two slots, both held by
// requests to /api/slow until release gets a value (or is closed), with
// queue and wait as given.
func heldAdmission(t *testing.T, queue int, wait time.Duration) (*admissionHandler, chan struct{}, prometheus.Counter, prometheus.Gauge) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	shed, inflight := prometheus.NewCounter(prometheus.CounterOpts{Name: "s"}), prometheus.NewGauge(prometheus.GaugeOpts{Name: "i"})
	a := newAdmission(2, queue, wait, shed, inflight)
	h := &admissionHandler{a: a, Handler: a.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}))}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { get(h, "/api/slow") })
		<-entered
	}
	t.Cleanup(wg.Wait)
	return h, release, shed, inflight
}

type admissionHandler struct {
	http.Handler
	a *admission
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestAdmissionOff(t *testing.T) {
	t.Parallel()
	if a := newAdmission(0, 0, time.Second, nil, nil); a != nil {
		t.Fatal("0 slots should be no admission control")
	}
	var a *admission
	h := a.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/popular", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("%d", rec.Code)
	}
}
