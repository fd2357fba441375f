package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// rawGetter sends GET requests over persistent HTTP/1.1 connections that
// it writes and reads itself, on the caller's goroutine. net/http's client
// hands every request to two goroutines per connection and back, which on
// a 2-core machine shared with the server cost the generator about as much
// CPU as the server spent answering; this costs a fraction of that. It
// understands what Marquee sends: Content-Length or chunked bodies.
type rawGetter struct {
	addr   string // host:port
	head   []byte // "Host: …\r\n" and the extra headers, each line ending in CRLF
	idle   chan *rawConn
	dialer net.Dialer
}

type rawConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
	// body is reused for every answer on this connection.
	body []byte
}

func newRawGetter(base string, headers http.Header) (*rawGetter, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("raw client speaks plain http, not %q", u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "Host: %s\r\n", u.Host)
	for k, vs := range headers {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	return &rawGetter{addr: host, head: head.Bytes(), idle: make(chan *rawConn, 4096), dialer: net.Dialer{Timeout: 5 * time.Second}}, nil
}

// get sends GET path and hands the status and body to read. A request on
// a reused connection that fails before any answer arrived is retried
// once on a new one (the server may have closed it while idle).
func (g *rawGetter) get(ctx context.Context, path string, read func(status int, body []byte) error) error {
	for attempt := 0; ; attempt++ {
		rc, reused, err := g.conn(ctx)
		if err != nil {
			return err
		}
		status, body, keep, err := rc.roundTrip(ctx, path, g.head)
		if err != nil {
			_ = rc.c.Close()
			if reused && attempt == 0 && ctx.Err() == nil {
				continue
			}
			return err
		}
		rerr := read(status, body)
		if keep {
			g.put(rc)
		} else {
			_ = rc.c.Close()
		}
		return rerr
	}
}

func (g *rawGetter) conn(ctx context.Context) (*rawConn, bool, error) {
	select {
	case rc := <-g.idle:
		return rc, true, nil
	default:
	}
	c, err := g.dialer.DialContext(ctx, "tcp", g.addr)
	if err != nil {
		return nil, false, err
	}
	return &rawConn{c: c, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 4<<10)}, false, nil
}

func (g *rawGetter) put(rc *rawConn) {
	select {
	case g.idle <- rc:
	default:
		_ = rc.c.Close()
	}
}

func (g *rawGetter) close() {
	for {
		select {
		case rc := <-g.idle:
			_ = rc.c.Close()
		default:
			return
		}
	}
}

var errMalformed = errors.New("malformed HTTP answer")

// roundTrip writes one GET and reads its answer; keep reports whether the
// connection can carry another request.
func (rc *rawConn) roundTrip(ctx context.Context, path string, head []byte) (status int, body []byte, keep bool, err error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	if err := rc.c.SetDeadline(deadline); err != nil {
		return 0, nil, false, err
	}
	bw := rc.bw
	_, _ = bw.WriteString("GET ")
	_, _ = bw.WriteString(path)
	_, _ = bw.WriteString(" HTTP/1.1\r\n")
	_, _ = bw.Write(head)
	_, _ = bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		return 0, nil, false, err
	}
	line, err := rc.line()
	if err != nil {
		return 0, nil, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked, keep := -1, false, line[7] == '1'
	for {
		h, err := rc.line()
		if err != nil {
			return 0, nil, false, err
		}
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, false, fmt.Errorf("%w: header %q", errMalformed, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			keep = keep && !asciiEqualFold(value, "close")
		}
	}
	rc.body = rc.body[:0]
	switch {
	case chunked:
		err = rc.readChunked()
	case length >= 0:
		rc.body = grow(rc.body, length)
		_, err = io.ReadFull(rc.br, rc.body)
	default: // until the server closes
		var buf bytes.Buffer
		_, err = buf.ReadFrom(rc.br)
		rc.body, keep = buf.Bytes(), false
	}
	if err != nil {
		return 0, nil, false, err
	}
	return status, rc.body, keep, nil
}

// readChunked reads a chunked body (and its empty trailer) into rc.body.
func (rc *rawConn) readChunked() error {
	for {
		line, err := rc.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			for { // trailer lines, then the blank line
				t, err := rc.line()
				if err != nil {
					return err
				}
				if len(t) == 0 {
					return nil
				}
			}
		}
		start := len(rc.body)
		rc.body = grow(rc.body, start+int(n))
		if _, err := io.ReadFull(rc.br, rc.body[start:]); err != nil {
			return err
		}
		if crlf, err := rc.line(); err != nil || len(crlf) != 0 {
			return fmt.Errorf("%w: no CRLF after a chunk", errMalformed)
		}
	}
}

// line reads one line without its CRLF. The result is valid until the
// next read.
func (rc *rawConn) line() ([]byte, error) {
	l, err := rc.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformed, rc.br.Size())
		}
		return nil, err
	}
	return bytes.TrimRight(l, "\r\n"), nil
}

// grow returns b with length n, reusing its array when it is big enough.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
