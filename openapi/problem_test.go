package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// logSink collects JSON log records.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(s, nil)) }

// records returns the records that have attr error_id = id.
func (s *logSink) records(t *testing.T, id string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["error_id"] == id {
			out = append(out, r)
		}
	}
	return out
}

// failingCatalog fails every write with err, as a database would.
type failingCatalog struct {
	ports.Catalog
	err error
}

func (c failingCatalog) Put(context.Context, ...domain.Movie) error { return c.err }

// failingBody is a request body whose read fails with a network's text.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 10.0.0.7:8080->10.0.0.9:51234: connection reset by peer")
}

// checkServerProblem asserts that resp is a 5xx problem with detail,
// carrying none of the secrets, with a correlation id in its instance and
// header, and that the log holds one error record under that id whose err
// holds cause.
func checkServerProblem(t *testing.T, r *httptestResponse, logs *logSink, status int, detail, cause string, secrets ...string) {
	t.Helper()
	body := r.body
	if r.StatusCode != status || !strings.Contains(r.Header.Get("Content-Type"), "problem+json") {
		t.Fatalf("status %d (%s), want a %d problem: %s", r.StatusCode, r.Header.Get("Content-Type"), status, body)
	}
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Fatalf("the answer holds %q: %s", s, body)
		}
	}
	p := decodeProblem(t, body)
	if p.Detail != detail || len(p.Errors) != 0 {
		t.Fatalf("detail %q and errors %v, want %q alone", p.Detail, p.Errors, detail)
	}
	id, ok := strings.CutPrefix(p.Instance, ErrorInstancePrefix)
	if !ok || id == "" || r.Header.Get(HeaderCorrelationID) != id {
		t.Fatalf("instance %q, %s %q: want %s<id> and the same id", p.Instance, HeaderCorrelationID, r.Header.Get(HeaderCorrelationID), ErrorInstancePrefix)
	}
	recs := logs.records(t, id)
	if len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(fmt.Sprint(recs[0]["err"]), cause) {
		t.Fatalf("log records under %s: %v, want one error holding %q", id, recs, cause)
	}
}

func TestServerErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	const driver = `ERROR: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)`
	tests := []struct {
		name    string
		mutate  func(*Deps, *recordingPublisher)
		do      func(api humatest.TestAPI) *httptestResponse
		status  int
		detail  string
		cause   string
		secrets []string
	}{
		{name: "a driver error is a 500",
			mutate: func(d *Deps, _ *recordingPublisher) {
				d.Catalog = failingCatalog{Catalog: d.Catalog, err: errors.New("postgres: put movies: " + driver)}
			},
			do: func(api humatest.TestAPI) *httptestResponse {
				return wrap(api.Put("/api/movies/m9", map[string]any{"title": "Nine"}))
			},
			status: 500, detail: "internal error: catalog unavailable", cause: "SQLSTATE 22021", secrets: []string{"SQLSTATE", "UTF8", "postgres"}},
		{name: "an unreachable event stream is a 503",
			mutate: func(_ *Deps, pub *recordingPublisher) {
				pub.err = fmt.Errorf("kafka: dial tcp 10.0.0.7:9092: connection refused: %w", ports.ErrUnavailable)
			},
			do: func(api humatest.TestAPI) *httptestResponse {
				return wrap(api.Post("/api/events", strings.NewReader(`{"user_id":"u1","movie_id":"m1","type":"click"}`)))
			},
			status: 503, detail: "event stream unavailable; nothing was accepted", cause: "10.0.0.7:9092", secrets: []string{"10.0.0.7", "kafka", "refused"}},
		{name: "no tier answering is a 503",
			mutate: func(d *Deps, _ *recordingPublisher) {
				d.Recommender = fixedRecommender{err: fmt.Errorf("redis 10.0.0.8:6379: %w", ports.ErrUnavailable)}
			},
			do:     func(api humatest.TestAPI) *httptestResponse { return wrap(api.Get("/api/recommendations?user_id=u1")) },
			status: 503, detail: "no tier could answer", cause: "10.0.0.8", secrets: []string{"10.0.0.8", "redis"}},
		{name: "a body that cannot be read (Huma's own 500)",
			do: func(api humatest.TestAPI) *httptestResponse {
				return wrap(api.Post("/api/events", "Content-Type: application/json", failingBody{}))
			},
			status: 500, detail: "internal error", cause: "connection reset", secrets: []string{"10.0.0", "reset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logSink{}
			api, _ := newAPI(t, func(d *Deps) {
				d.Logger = logs.logger()
				if tt.mutate != nil {
					tt.mutate(d, d.Publisher.(*recordingPublisher))
				}
			})
			resp := tt.do(api)
			checkServerProblem(t, resp, logs, tt.status, tt.detail, tt.cause, tt.secrets...)
			if tt.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Fatal("a 503 without Retry-After")
			}
		})
	}
}

// TestHandlerErrorsThatAreNoProblem covers an operation that returns a
// plain error (none of Marquee's do; Huma would put its text in a 500).
func TestHandlerErrorsThatAreNoProblem(t *testing.T) {
	t.Parallel()
	logs := &logSink{}
	api, _ := newAPI(t, func(d *Deps) { d.Logger = logs.logger() })
	huma.Register(api, huma.Operation{OperationID: "broken", Method: http.MethodGet, Path: "/broken", Security: auth.Public()},
		func(context.Context, *struct{}) (*struct{}, error) {
			return nil, errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")
		})
	resp := wrap(api.Get("/broken"))
	checkServerProblem(t, resp, logs, 500, "internal error", "10.0.0.7:5432", "10.0.0.7", "dial")
}

// httptestResponse is a recorded answer with its body read once.
type httptestResponse struct {
	*http.Response
	body string
}

func wrap(w interface{ Result() *http.Response }) *httptestResponse {
	r := w.Result()
	defer r.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	return &httptestResponse{Response: r, body: b.String()}
}
