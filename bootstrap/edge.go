package bootstrap

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/marquee-recsys/marquee/openapi"
)

// The header limits. Requests are refused past maxHeaderBytes by
// limitHeaders, with a problem document; hardMaxHeaderBytes is the Go
// server's own limit, there only to bound the memory a request can take
// before any handler runs: past it the server answers 431 itself, in plain
// text, and closes the connection.
const (
	maxHeaderBytes     = 64 << 10 // request line and header fields
	hardMaxHeaderBytes = 1 << 20
)

// edge wraps the routes in what every request passes before them: the
// header limit, then the problem documents for the errors that net/http
// writes as text.
func edge(routes http.Handler, log *slog.Logger) http.Handler {
	return limitHeaders(maxHeaderBytes, problems(routes, log))
}

// problems serves next, but an error answer that is no problem document
// (net/http's plain text: the mux's 404 for an unknown path and 405, with
// Allow, for a known path with another method; the dashboard's 404 for a
// file it does not have) is replaced by one. The API's own answers are
// problem documents already and pass untouched; a 5xx is made by
// openapi.WriteServerProblem, its text logged, not sent.
func problems(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &problemWriter{ResponseWriter: w}
		next.ServeHTTP(pw, r)
		switch status := pw.held; {
		case status == 0:
		case status >= 500:
			openapi.WriteServerProblem(w, r, log, status, errors.New(strings.TrimSpace(string(pw.text))))
		case status == http.StatusNotFound:
			openapi.WriteProblem(w, status, "no resource at this path")
		case status == http.StatusMethodNotAllowed:
			openapi.WriteProblem(w, status, fmt.Sprintf("method %s is not allowed here; allowed: %s", r.Method, w.Header().Get("Allow")))
		default:
			openapi.WriteProblem(w, status, http.StatusText(status))
		}
	})
}

// problemWriter holds back an error status written without a problem
// document's content type, and the text after it (up to maxHeldText
// bytes, the cause of a 5xx).
type problemWriter struct {
	http.ResponseWriter
	held int
	text []byte
}

const maxHeldText = 1 << 10

// WriteHeader implements http.ResponseWriter.
func (w *problemWriter) WriteHeader(status int) {
	if w.held != 0 {
		return
	}
	if status >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+") {
		w.held = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *problemWriter) Write(p []byte) (int, error) {
	if w.held != 0 {
		w.text = append(w.text, p[:min(len(p), maxHeldText-len(w.text))]...)
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (Huma sets
// read deadlines through it).
func (w *problemWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitHeaders answers 431 with a problem document when the request line
// and header fields exceed limit bytes, as they arrived less optional
// whitespace (the server has parsed them: this counts what it kept).
func limitHeaders(limit int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := headerBytes(r); n > limit {
			w.Header().Set("Connection", "close")
			openapi.WriteProblem(w, http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("the request line and headers take %d bytes; the limit is %d", n, limit))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerBytes is the size of r's request line and header fields on the
// wire ("Name: value\r\n" each, Host included, and the blank line).
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}
