package bootstrap

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// gatedServer is an HTTP server behind a connection gate of one slot,
// whose /api/slow holds its connection until release is closed.
type gatedServer struct {
	url     string
	gate    *connGate
	release chan struct{}
	entered chan struct{}
	shed    prometheus.Counter
	open    prometheus.Gauge
}

func newGatedServer(t *testing.T, queue int, wait, turn time.Duration) *gatedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &gatedServer{
		url: "http://" + ln.Addr().String(), release: make(chan struct{}), entered: make(chan struct{}, 8),
		shed: prometheus.NewCounter(prometheus.CounterOpts{Name: "s"}), open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "o"}),
	}
	s.gate = newConnGate(ln, 1, queue, wait, turn, s.shed, s.open)
	srv := &http.Server{ConnContext: connContext, Handler: s.gate.rotate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			s.entered <- struct{}{}
			<-s.release
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(s.gate) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// hold takes the gate's one slot with a request to /api/slow, answered
// once s.release is closed; the returned channel has its status.
func (s *gatedServer) hold(t *testing.T) chan int {
	t.Helper()
	code := make(chan int, 1)
	go func() { code <- gateStatus(t, http.MethodGet, s.url+"/api/slow", "") }()
	<-s.entered
	return code
}

// gateStatus sends one request on a connection of its own.
func gateStatus(t *testing.T, method, url, body string) int {
	t.Helper()
	resp, err := freshClient().Do(newRequest(t, method, url, body))
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable {
		if resp.Header.Get("Retry-After") != "1" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") ||
			!resp.Close || !strings.Contains(string(b), "at capacity") {
			t.Errorf("a shed connection's answer: %v %v %s", resp.Close, resp.Header, b)
		}
	}
	return resp.StatusCode
}

func newRequest(t *testing.T, method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// freshClient is a client whose every request opens a connection of its own.
func freshClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// TestConnGateShedsPastItsBounds: with the one slot held, a connection
// waits unread up to the gate's wait and is then answered 503 (problem,
// Retry-After, Connection: close), even while it still sends a body; a
// probe or an admin request on a shed connection is served; each refusal
// is counted, and the slots are all given back at the end.
func TestConnGateShedsPastItsBounds(t *testing.T) {
	t.Parallel()
	s := newGatedServer(t, 4, 50*time.Millisecond, time.Minute)
	held := s.hold(t)
	if n := testutil.ToFloat64(s.open); n != 1 {
		t.Fatalf("open connections %v, want 1", n)
	}
	start := time.Now()
	if code := gateStatus(t, http.MethodGet, s.url+"/api/recommendations?user_id=u", ""); code != http.StatusServiceUnavailable || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("with the slot held: %d after %v, want 503 after the 50 ms wait", code, time.Since(start))
	}
	if code := gateStatus(t, http.MethodPost, s.url+"/api/events", strings.Repeat(`{"user_id":"u"}`, 20_000)); code != http.StatusServiceUnavailable {
		t.Fatalf("a POST with a body past the bound got %d, want 503", code)
	}
	for _, path := range []string{"/readyz", "/metrics", "/api/admin/train"} {
		if code := gateStatus(t, http.MethodGet, s.url+path, ""); code != http.StatusOK {
			t.Fatalf("%s on a shed connection: %d, want it served", path, code)
		}
	}
	close(s.release)
	if code := <-held; code != http.StatusOK {
		t.Fatalf("the held request: %d", code)
	}
	if n := testutil.ToFloat64(s.shed); n != 2 {
		t.Fatalf("shed %v, want 2", n)
	}
	waitFor(t, "every slot given back", func() bool { return testutil.ToFloat64(s.open) == 0 && len(s.gate.slots) == 0 })
}

// TestConnGateQueueIsBoundedAndRotates: past the queue's bound a
// connection is refused without the wait (a minute); the connection
// waiting in the queue gets the slot, because while one waits an
// admitted keep-alive connection is closed after its next answer.
func TestConnGateQueueIsBoundedAndRotates(t *testing.T) {
	t.Parallel()
	s := newGatedServer(t, 1, time.Minute, 0)
	// A keep-alive client holds the slot: without rotation its connection
	// would stay open after the answer, and the waiter would wait a minute.
	// One connection at most, so that its second request reuses the first
	// one instead of dialing a new one (then shed) when the transport has
	// not yet put it back as idle.
	keep := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
	held := make(chan *http.Response, 1)
	go func() {
		resp, err := keep.Get(s.url + "/api/slow")
		if err != nil {
			t.Error(err)
		}
		held <- resp
	}()
	<-s.entered
	waiter := make(chan int, 1)
	go func() { waiter <- gateStatus(t, http.MethodGet, s.url+"/api/popular", "") }()
	waitFor(t, "a connection in the queue", func() bool { return s.gate.waiting.Load() == 1 })
	start := time.Now()
	if code := gateStatus(t, http.MethodGet, s.url+"/api/popular", ""); code != http.StatusServiceUnavailable || time.Since(start) > 30*time.Second {
		t.Fatalf("past the queue: %d after %v, want 503 at once", code, time.Since(start))
	}
	close(s.release)
	drain(<-held)
	// The next request on the admitted connection is its last: the
	// answer says Connection: close, and the waiter gets the slot.
	resp, err := keep.Get(s.url + "/api/popular")
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if !resp.Close {
		t.Fatal("the admitted connection was kept open while another waited")
	}
	if code := <-waiter; code != http.StatusOK {
		t.Fatalf("the waiting connection got %d once the slot was free", code)
	}
	if n := testutil.ToFloat64(s.shed); n != 1 {
		t.Fatalf("shed %v, want 1", n)
	}
}

func drain(resp *http.Response) {
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// TestConnGateOff: no slots, no gate.
func TestConnGateOff(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if g := newConnGate(ln, 0, 0, time.Second, 0, nil, nil); g != nil {
		t.Fatal("0 slots should be no gate")
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	var g *connGate
	if h := g.rotate(next); reflect.ValueOf(h).Pointer() != reflect.ValueOf(next).Pointer() {
		t.Fatal("no gate should rotate nothing")
	}
}

func TestRequestPath(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"GET /api/recommendations?user_id=u HTTP/1.1\r\n": "/api/recommendations",
		"POST /api/admin/train HTTP/1.1\r\n":              "/api/admin/train",
		"GET /readyz HTTP/1.0\n":                          "/readyz",
	} {
		if got, ok := requestPath([]byte(line)); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", line, got, ok, want)
		}
	}
	if _, ok := requestPath([]byte("garbage\r\n")); ok {
		t.Error("a line without a target has no path")
	}
}

// TestNodeBehindTheConnectionGate: a node started with one connection
// slot and no queue serves a keep-alive client on it, refuses another
// client's connection with the canned 503, still answers a probe on a
// refused connection, and counts the refusal in /metrics.
func TestNodeBehindTheConnectionGate(t *testing.T) {
	app := startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": "20", "MARQUEE_HTTP_MAX_CONNS": "1", "MARQUEE_HTTP_CONN_QUEUE": "0"})
	keep := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(keep.CloseIdleConnections)
	resp, err := keep.Get(app.URL() + "/api/popular")
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the first client: %d", resp.StatusCode)
	}
	// Its idle keep-alive connection holds the one slot.
	if code := gateStatus(t, http.MethodGet, app.URL()+"/api/popular", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("a second client with the slot held: %d, want 503", code)
	}
	if code := gateStatus(t, http.MethodGet, app.URL()+"/readyz", ""); code != http.StatusOK {
		t.Fatalf("a probe on a refused connection: %d", code)
	}
	resp, err = keep.Get(app.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// The held connection, and the probe's until the server sees it close.
	held := strings.Contains(string(body), "marquee_http_connections 1\n") || strings.Contains(string(body), "marquee_http_connections 2\n")
	if !strings.Contains(string(body), "marquee_http_shed_total 1\n") || !held {
		t.Fatalf("/metrics (%d) does not count the refusal and the held connection:\n%s", resp.StatusCode, grepLines(string(body), "marquee_http_"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
