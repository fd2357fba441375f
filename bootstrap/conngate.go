package bootstrap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-recsys/marquee/openapi"
)

// connGate bounds the connections the HTTP server reads from at once. It
// is the admission control's first gate: the request gate (admission)
// runs once a request is read, and with far more connections than cores
// their goroutines wait for a core before they reach it (BENCHMARKS.md
// "Over capacity"). A connection the server is not reading from costs no
// scheduling, so past the bound a new connection waits unread, at most
// wait and with at most queue others; past that it is shed: its request
// head is read (bounded, on a goroutine of its own) and answered with a
// canned 503 problem, Retry-After: 1 and Connection: close.
//
// A shed connection whose request is not under admission control (the
// probes, /metrics, the dashboard, the admin operations) is served
// anyway, so a node at capacity stays visibly alive and manageable.
//
// While connections wait, an admitted one that has held its slot longer
// than turn is closed after its next answer (rotate), so keep-alive
// connections that got in first do not hold the node against the others,
// and the connections turn over at most once per turn each (closing after
// every answer instead halved the throughput: every request paid for a
// new connection).
type connGate struct {
	net.Listener
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	turn    time.Duration
	waiting atomic.Int64
	shed    prometheus.Counter
	open    prometheus.Gauge

	ready chan net.Conn // admitted connections, for Accept
	errs  chan error    // the inner listener's errors, for Accept
	done  chan struct{} // closed by Close
	once  sync.Once
	// refusal is the canned answer of a shed connection.
	refusal []byte
}

// newConnGate wraps ln so that it hands the server at most slots
// connections at once (0: nil, no gate); queue and wait are as for
// admission, turn is how long a connection keeps its slot while others
// wait.
func newConnGate(ln net.Listener, slots, queue int, wait, turn time.Duration, shed prometheus.Counter, open prometheus.Gauge) *connGate {
	if slots <= 0 {
		return nil
	}
	g := &connGate{
		Listener: ln, slots: make(chan struct{}, slots), queue: int64(queue), wait: wait, turn: turn, shed: shed, open: open,
		ready: make(chan net.Conn), errs: make(chan error), done: make(chan struct{}), refusal: cannedRefusal(),
	}
	go g.acceptLoop()
	return g
}

// cannedRefusal is the whole HTTP answer to a shed connection: the
// problem document admission sends, with Retry-After and Connection: close.
func cannedRefusal() []byte {
	body := openapi.ProblemBody(http.StatusServiceUnavailable, atCapacity)
	head := "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n" +
		"Content-Type: " + openapi.ProblemContentType + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

// Accept implements net.Listener: the next admitted connection.
func (g *connGate) Accept() (net.Conn, error) {
	select {
	case c := <-g.ready:
		return c, nil
	case err := <-g.errs:
		return nil, err
	case <-g.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (g *connGate) Close() error {
	err := g.Listener.Close()
	g.once.Do(func() { close(g.done) })
	return err
}

func (g *connGate) acceptLoop() {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			select {
			case g.errs <- err: // http.Server retries the temporary ones
			case <-g.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		g.admit(c)
	}
}

// admit hands c to the server at once when a slot is free, or queues it,
// or sheds it.
func (g *connGate) admit(c net.Conn) {
	select {
	case g.slots <- struct{}{}:
		g.handOver(g.held(c))
		return
	default:
	}
	if g.wait > 0 {
		if g.waiting.Add(1) <= g.queue {
			go g.await(c)
			return
		}
		g.waiting.Add(-1)
	}
	go g.refuse(c)
}

// await waits for a slot for the queued c, at most the gate's wait.
func (g *connGate) await(c net.Conn) {
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		g.handOver(g.held(c))
	case <-t.C:
		g.refuse(c)
	case <-g.done:
		_ = c.Close()
	}
}

// handOver gives an admitted connection to Accept (or closes it when the
// listener is closing).
func (g *connGate) handOver(c net.Conn) {
	select {
	case g.ready <- c:
	case <-g.done:
		_ = c.Close()
	}
}

// held is c holding a slot, which its Close gives back.
func (g *connGate) held(c net.Conn) net.Conn {
	g.open.Inc()
	return &heldConn{Conn: c, since: time.Now(), release: func() {
		g.open.Dec()
		<-g.slots
	}}
}

// refuse reads c's request head and answers it with the canned 503, or
// serves it outside the bound when its path is not under admission.
func (g *connGate) refuse(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	br := bufio.NewReaderSize(c, 4<<10)
	line, err := br.ReadSlice('\n')
	if err != nil {
		_ = c.Close()
		return
	}
	if path, ok := requestPath(line); ok && !admitted(path) {
		_ = c.SetDeadline(time.Time{})
		g.open.Inc()
		// The server reads the request line again, then the rest.
		g.handOver(&heldConn{Conn: c, since: time.Now(), unbounded: true,
			r: io.MultiReader(bytes.NewReader(bytes.Clone(line)), br), release: func() { g.open.Dec() }})
		return
	}
	g.shed.Inc()
	// The rest of the head, so the client reads the answer to a request
	// it has finished sending; a body, if any, is left unread.
	for {
		l, err := br.ReadSlice('\n')
		if err != nil || len(bytes.TrimRight(l, "\r\n")) == 0 {
			break
		}
	}
	_, _ = c.Write(g.refusal)
	lingeringClose(c)
}

// lingeringClose closes c after reading what the client still sends (for
// at most the deadline already set): closing with unread bytes would
// reset the connection, and the client could lose the answer.
func lingeringClose(c net.Conn) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 256<<10))
	}
	_ = c.Close()
}

// requestPath is the path of an HTTP/1 request line ("GET /p?q HTTP/1.1").
func requestPath(line []byte) (string, bool) {
	_, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return "", false
	}
	target, _, ok := bytes.Cut(rest, []byte(" "))
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return string(target), true
}

// heldConn is an admitted connection, since a time: its Close gives its
// slot back once. r, when set, holds bytes already read from it (the
// request line a shed check read), which it reads first; unbounded, it
// holds no slot (a probe's connection served past the bound).
type heldConn struct {
	net.Conn
	since     time.Time
	unbounded bool
	r         io.Reader
	release   func()
	once      sync.Once
}

func (c *heldConn) Read(p []byte) (int, error) {
	if c.r != nil {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// CloseWrite lets the server's own lingering close half-close c.
func (c *heldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *heldConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// rotate closes a connection after its answer when it has held its slot
// longer than the gate's turn while others wait for one (a nil gate:
// never). The server's ConnContext must be connContext.
func (g *connGate) rotate(next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.waiting.Load() > 0 {
			if c, ok := r.Context().Value(heldConnKey{}).(*heldConn); ok && (c.unbounded || time.Since(c.since) > g.turn) {
				w.Header().Set("Connection", "close")
			}
		}
		next.ServeHTTP(w, r)
	})
}

type heldConnKey struct{}

// connContext is the http.Server's ConnContext for a gated listener: it
// lets rotate find a request's connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*heldConn); ok {
		return context.WithValue(ctx, heldConnKey{}, hc)
	}
	return ctx
}
