package bootstrap

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHeaderBytesCountsTheWire sends raw requests and compares what
// headerBytes counts with the bytes of their request line and headers.
func TestHeaderBytesCountsTheWire(t *testing.T) {
	t.Parallel()
	counted := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { counted <- headerBytes(r) }))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
		"GET /api/popular?n=3 HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer abc\r\nX-Api-Key: k\r\nAccept: */*\r\n\r\n",
		"POST /api/events HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 5000) + "\r\nX-Pad: q\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-counted:
			if n != len(raw) {
				t.Errorf("counted %d bytes of a %d-byte head: %.80q", n, len(raw), raw)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no request arrived")
		}
		conn.Close()
	}
}

// TestProblemsReplaceTextErrors: an error answer in plain text becomes a
// problem document (a 5xx's text goes to the log, under the answer's
// correlation id); problems and other answers pass untouched.
func TestProblemsReplaceTextErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		ctype   string
		body    string // the answer holds this
		hidden  string // and not this
	}{
		{"plain 404", http.NotFound, 404, "application/problem+json", `"detail":"no resource at this path"`, "page not found"},
		{"plain 500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "dial tcp 10.0.0.7:5432: connection refused", 500)
		}, 500, "application/problem+json", `"instance":"urn:marquee:error:`, "10.0.0.7"},
		{"plain 400", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad", 400) }, 400, "application/problem+json", `"title":"Bad Request"`, ""},
		{"a problem passes", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(422)
			_, _ = io.WriteString(w, `{"status":422,"detail":"as it was"}`)
		}, 422, "application/problem+json", `"detail":"as it was"`, ""},
		{"a success passes", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "fine") }, 200, "text/plain; charset=utf-8", "fine", ""},
		{"a redirect passes", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/docs", http.StatusFound) }, 302, "text/html; charset=utf-8", "/docs", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			w := httptest.NewRecorder()
			problems(tt.handler, slog.New(slog.NewTextHandler(logs, nil))).ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
			if w.Code != tt.status || w.Header().Get("Content-Type") != tt.ctype || !strings.Contains(w.Body.String(), tt.body) ||
				tt.hidden != "" && strings.Contains(w.Body.String(), tt.hidden) {
				t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if tt.status == 500 {
				id := w.Header().Get("X-Correlation-ID")
				if id == "" || !strings.Contains(logs.String(), "error_id="+id) || !strings.Contains(logs.String(), "10.0.0.7:5432") {
					t.Fatalf("correlation id %q; log: %s", id, logs)
				}
			}
		})
	}
}

// TestEdgeProblems runs a node and checks that what no operation answers
// is a problem document too: an unknown path, a wrong method (with
// Allow), a body or headers over their limit; that the routes beside the
// API still answer; and that past the hard header cap the Go server's own
// answer is sent.
func TestEdgeProblems(t *testing.T) {
	app, _ := startLogged(t, map[string]string{"MARQUEE_DEMO": "false", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_API_KEYS": testAPIKeys})
	big := `{"user_id":"u1","movie_id":"m1","type":"click","rec_log_id":"` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		allow                    string // the Allow header must hold this
	}{
		{name: "unknown path", method: "GET", path: "/no/such/thing", status: 404},
		{name: "unknown path under the API", method: "GET", path: "/api/nothing", status: 404},
		{name: "wrong method on an operation", method: "DELETE", path: "/api/popular", status: 405, allow: "GET"},
		{name: "wrong method beside the API", method: "POST", path: "/metrics", status: 405, allow: "GET"},
		{name: "a file the dashboard does not have", method: "GET", path: "/dashboard/no-such-file.js", status: 404},
		{name: "body over the limit", method: "POST", path: "/api/events", body: big, headers: []string{"Authorization: Bearer " + ingestSecret}, status: 413},
		{name: "headers over 64 KiB", method: "GET", path: "/healthz", headers: []string{"X-Pad: " + strings.Repeat("p", 65<<10)}, status: 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, tt.method, app.URL()+tt.path, tt.body, "", tt.headers...)
			if resp.code != tt.status || resp.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s, want a %d problem: %.200s", resp.code, resp.header.Get("Content-Type"), tt.status, resp.body)
			}
			var p struct {
				Status int
				Title  string
				Detail string
			}
			if err := json.Unmarshal([]byte(resp.body), &p); err != nil || p.Status != tt.status || p.Title != http.StatusText(tt.status) || p.Detail == "" {
				t.Fatalf("not a problem of status %d: %s (%v)", tt.status, resp.body, err)
			}
			if !strings.Contains(resp.header.Get("Allow"), tt.allow) {
				t.Fatalf("Allow %q, want it to hold %q", resp.header.Get("Allow"), tt.allow)
			}
		})
	}
	t.Run("headers just under 64 KiB", func(t *testing.T) {
		if resp := send(t, "GET", app.URL()+"/healthz", "", "", "X-Pad: "+strings.Repeat("p", 63<<10)); resp.code != 200 {
			t.Fatalf("%d: %.200s", resp.code, resp.body)
		}
	})
	t.Run("the routes beside the API", func(t *testing.T) {
		for _, path := range []string{"/", "/docs", "/openapi.yaml", "/openapi.json", "/dashboard", "/dashboard/", "/metrics", "/healthz", "/readyz"} {
			if resp := send(t, "GET", app.URL()+path, "", ""); resp.code != 200 {
				t.Errorf("GET %s: %d %.200s", path, resp.code, resp.body)
			}
		}
	})
	t.Run("past the hard cap, the server's own answer", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL(), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		// Just past the cap (the server allows itself 4 KiB more), so that
		// the little left unread cannot reset the connection first.
		go fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("p", hardMaxHeaderBytes+8<<10))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("status %d (%s), want net/http's plain 431", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
