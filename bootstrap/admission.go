package bootstrap

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-recsys/marquee/openapi"
)

// admission bounds how many API requests the node serves at once. A
// request that finds every slot taken waits for one at most wait; one
// that would wait longer, or that finds queue requests waiting already,
// is shed at once with 503 and Retry-After: 1: past its capacity, the
// node refuses quickly instead of queueing without bound (a client with
// several nodes tries another). The gate runs once a request has been
// read: with many more connections than cores, requests wait for a core
// before they reach it, and that wait it does not bound (BENCHMARKS.md
// "Over capacity").
//
// It covers /api/ but the admin operations (training, archiving, model
// promotion: rare, long, and not to be refused for load) and leaves the
// probes, /metrics and the dashboard alone.
type admission struct {
	slots    chan struct{}
	queue    int64
	wait     time.Duration
	waiting  atomic.Int64
	shed     prometheus.Counter
	inflight prometheus.Gauge
}

// newAdmission returns the admission control for slots requests at once
// (0: none), at most queue waiting, each at most wait.
func newAdmission(slots, queue int, wait time.Duration, shed prometheus.Counter, inflight prometheus.Gauge) *admission {
	if slots <= 0 {
		return nil
	}
	return &admission{slots: make(chan struct{}, slots), queue: int64(queue), wait: wait, shed: shed, inflight: inflight}
}

// wrap applies the admission control to next (a nil admission: none).
func (a *admission) wrap(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !admitted(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !a.acquire() {
			a.shed.Inc()
			w.Header().Set("Retry-After", "1")
			openapi.WriteProblem(w, http.StatusServiceUnavailable, atCapacity)
			return
		}
		a.inflight.Inc()
		defer func() {
			a.inflight.Dec()
			<-a.slots
		}()
		next.ServeHTTP(w, r)
	})
}

// atCapacity is the detail of every refusal, at either gate.
const atCapacity = "the node is at capacity; retry, here or on another node"

// admitted reports whether a path is under admission control.
func admitted(path string) bool {
	return strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/api/admin/")
}

// acquire takes a slot, waiting for one within the bounds.
func (a *admission) acquire() bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	if a.wait <= 0 {
		return false
	}
	defer a.waiting.Add(-1)
	if a.waiting.Add(1) > a.queue {
		return false // the queue is full: shed without waiting
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}
