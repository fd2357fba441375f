package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
)

// clock is an injectable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type okOutput struct {
	Body struct {
		OK bool `json:"ok"`
	}
}

// guardedAPI is a test API behind a guard: /public needs nothing, /read
// the read scope, /admin admin, /both read and admin, /inherit declares
// nothing (so the document's requirement, admin, applies) and /strange a
// scope that does not exist.
func guardedAPI(t *testing.T, o Options) (humatest.TestAPI, *clock) {
	t.Helper()
	c := &clock{now: t0}
	o.Now = c.Now
	g, err := NewGuard(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := huma.DefaultConfig("test", "1")
	cfg.Security = Requirement(ScopeAdmin)
	_, api := humatest.New(t, cfg)
	api.UseMiddleware(g.Middleware(api))
	handler := func(context.Context, *struct{}) (*okOutput, error) {
		out := &okOutput{}
		out.Body.OK = true
		return out, nil
	}
	for path, sec := range map[string][]map[string][]string{
		"/public": Public(), "/read": Requirement(ScopeRead), "/admin": Requirement(ScopeAdmin),
		"/both": Requirement(ScopeRead | ScopeAdmin), "/inherit": nil,
		"/strange":               {{SchemeBearer: {"superuser"}}},
		"/anonymous-alternative": {{SchemeBearer: {"admin"}}, {}},
	} {
		huma.Register(api, huma.Operation{OperationID: "get" + strings.ReplaceAll(path, "/", "-"), Method: http.MethodGet,
			Path: path, Security: sec}, handler)
	}
	return api, c
}

func testKeys(t *testing.T, spec string) []Key {
	t.Helper()
	keys, err := ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// do sends a GET from remote with the given headers.
func do(api humatest.TestAPI, path, remote string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	api.Adapter().ServeHTTP(w, req)
	return w
}

func problemDetail(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q, want application/problem+json", ct)
	}
	var p huma.ErrorModel
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code {
		t.Fatalf("not a problem document of status %d: %s (%v)", w.Code, w.Body, err)
	}
	return p.Detail
}

func TestGuardScopes(t *testing.T) {
	t.Parallel()
	api, _ := guardedAPI(t, Options{Keys: testKeys(t, "reader:read:"+secretA+",ops:admin:"+secretB+",all:ingest+read+admin:"+secretC)})
	const remote = "192.0.2.1:1234"
	bearer := func(s string) string { return "Authorization: Bearer " + s }
	for _, tc := range []struct {
		path   string
		header string
		want   int
	}{
		{"/public", "", 200},
		{"/public", bearer("nonsense"), 200}, // a bad key is no refusal on a public operation
		{"/read", "", 401},
		{"/read", bearer("nonsense-nonsense-nonsense-nonsense"), 401},
		{"/read", "Authorization: Basic " + secretA, 401},
		{"/read", bearer(secretA), 200},
		{"/read", "Authorization: bearer  " + secretA, 200}, // the scheme is case-insensitive
		{"/read", HeaderAPIKey + ": " + secretA, 200},
		{"/read", bearer(secretB), 403},
		{"/read", bearer(secretC), 200},
		{"/admin", bearer(secretA), 403},
		{"/admin", bearer(secretB), 200},
		{"/both", bearer(secretA), 403},
		{"/both", bearer(secretB), 403},
		{"/both", bearer(secretC), 200},
		{"/inherit", bearer(secretA), 403}, // fails closed: the document's admin requirement
		{"/inherit", bearer(secretB), 200},
		{"/inherit", "", 401},
		{"/strange", bearer(secretC), 403}, // no key can hold an unknown scope
		{"/anonymous-alternative", "", 200},
	} {
		var headers []string
		if tc.header != "" {
			headers = append(headers, tc.header)
		}
		w := do(api, tc.path, remote, headers...)
		if w.Code != tc.want {
			t.Errorf("GET %s with %.30q: %d, want %d (%s)", tc.path, tc.header, w.Code, tc.want, w.Body)
			continue
		}
		if w.Code < 400 {
			continue
		}
		detail := problemDetail(t, w)
		for _, s := range []string{secretA, secretB, secretC, "nonsense"} {
			if strings.Contains(w.Body.String(), s) {
				t.Errorf("the answer quotes a credential: %s", w.Body)
			}
		}
		challenge := w.Header().Get("WWW-Authenticate")
		switch {
		case w.Code == 401 && tc.header == "":
			if challenge != `Bearer realm="marquee"` || detail != DetailMissingKey {
				t.Errorf("401 without a key: challenge %q, detail %q", challenge, detail)
			}
		case w.Code == 401:
			if !strings.Contains(challenge, `error="invalid_token"`) || detail != DetailInvalidKey {
				t.Errorf("401 with a bad key: challenge %q, detail %q", challenge, detail)
			}
		case w.Code == 403:
			if !strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(detail, "lacks the scope") {
				t.Errorf("403: challenge %q, detail %q", challenge, detail)
			}
		}
	}
	w := do(api, "/both", remote, bearer(secretA))
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="marquee", error="insufficient_scope", scope="read admin"` {
		t.Errorf("403 challenge %q", got)
	}
	if d := problemDetail(t, w); d != `key "reader" (scopes: read) lacks the scope this operation needs: read+admin` {
		t.Errorf("403 detail %q", d)
	}
}

// TestGuardRateLimitPerKey: a key gets its burst, then 429 with
// Retry-After (whole seconds, rounded up) and a problem document, and
// requests succeed again once the injected clock has refilled a token.
// Keys are limited separately, by their own limit or the default.
func TestGuardRateLimitPerKey(t *testing.T) {
	t.Parallel()
	api, c := guardedAPI(t, Options{
		Keys:  testKeys(t, "slow:read:"+secretA+":0.5/3,fast:read:"+secretB+",free:read:"+secretC+":off"),
		Limit: Limit{Rate: 100, Burst: 5},
	})
	get := func(secret string) *httptest.ResponseRecorder {
		return do(api, "/read", "192.0.2.1:1", "Authorization: Bearer "+secret)
	}
	for i := range 3 {
		if w := get(secretA); w.Code != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, w.Code)
		}
	}
	w := get(secretA)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" { // 1 token at 0.5/s: 2 s
		t.Fatalf("past the burst: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if d := problemDetail(t, w); !strings.Contains(d, `key "slow" (0.5 requests/s, burst 3)`) || !strings.Contains(d, "retry in 2 s") {
		t.Fatalf("429 detail %q", d)
	}
	// Another key is not affected, and is limited by the default.
	for i := range 5 {
		if w := get(secretB); w.Code != 200 {
			t.Fatalf("other key, request %d: %d", i+1, w.Code)
		}
	}
	if w := get(secretB); w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("other key past the default burst: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	for range 50 {
		if w := get(secretC); w.Code != 200 {
			t.Fatalf("an unlimited key was limited: %d", w.Code)
		}
	}
	c.Add(1500 * time.Millisecond)
	if w := get(secretA); w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("after 1.5 s (0.75 tokens): %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	c.Add(500 * time.Millisecond)
	if w := get(secretA); w.Code != 200 {
		t.Fatalf("after 2 s, a token should be back: %d", w.Code)
	}
	if w := get(secretA); w.Code != 429 {
		t.Fatalf("only one token came back: %d", w.Code)
	}
	// A refused request costs no token: a key at its limit is not starved
	// by its own retries.
	c.Add(2500 * time.Millisecond)
	if w := get(secretA); w.Code != 200 {
		t.Fatalf("after another 2.5 s: %d", w.Code)
	}
}

// TestGuardOpenMode: with no keys every operation is served without one,
// limited per client address; addresses are limited separately.
func TestGuardOpenMode(t *testing.T) {
	t.Parallel()
	api, c := guardedAPI(t, Options{Limit: Limit{Rate: 1, Burst: 2}})
	for _, path := range []string{"/admin", "/read"} {
		if w := do(api, path, "192.0.2.1:1"); w.Code != 200 {
			t.Fatalf("open %s: %d", path, w.Code)
		}
	}
	w := do(api, "/public", "192.0.2.1:2") // same address, other port
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(problemDetail(t, w), "this client address") {
		t.Fatalf("third request of one address: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := do(api, "/admin", "198.51.100.1:1"); w.Code != 200 {
		t.Fatalf("another address: %d", w.Code)
	}
	c.Add(time.Second)
	if w := do(api, "/admin", "192.0.2.1:1"); w.Code != 200 {
		t.Fatalf("after a second: %d", w.Code)
	}
}

// TestGuardLimitsGuessing: requests with bad keys count against their
// client address, so guessing gets 429 too; public operations are limited
// per address as well.
func TestGuardLimitsGuessing(t *testing.T) {
	t.Parallel()
	api, _ := guardedAPI(t, Options{Keys: testKeys(t, "k:read:"+secretA), Limit: Limit{Rate: 1, Burst: 3}})
	codes := []int{}
	for range 4 {
		codes = append(codes, do(api, "/read", "203.0.113.9:1", "Authorization: Bearer guess-guess-guess-guess-guess-01").Code)
	}
	if codes[0] != 401 || codes[2] != 401 || codes[3] != 429 {
		t.Fatalf("guessing: %v, want 401 ×3 then 429", codes)
	}
	if w := do(api, "/public", "203.0.113.9:1"); w.Code != 429 {
		t.Fatalf("public operation from the same address: %d", w.Code)
	}
	// The real key still works from there: it has its own bucket.
	if w := do(api, "/read", "203.0.113.9:1", "Authorization: Bearer "+secretA); w.Code != 200 {
		t.Fatalf("a valid key from a limited address: %d", w.Code)
	}
}

type grantedOutput struct {
	Body struct {
		Granted string `json:"granted"`
	}
}

// TestGuardGrants checks what the guard tells an operation about the
// request's key: on a public operation a valid key's scopes (and nothing
// for a missing or unknown key, which is no refusal there), on a guarded
// one the scopes of the key it let through, and every scope in open mode.
func TestGuardGrants(t *testing.T) {
	t.Parallel()
	newAPI := func(keys []Key) humatest.TestAPI {
		g, err := NewGuard(Options{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		_, api := humatest.New(t, huma.DefaultConfig("test", "1"))
		api.UseMiddleware(g.Middleware(api))
		handler := func(ctx context.Context, _ *struct{}) (*grantedOutput, error) {
			out := &grantedOutput{}
			out.Body.Granted = Granted(ctx).String()
			return out, nil
		}
		huma.Register(api, huma.Operation{OperationID: "public", Method: http.MethodGet, Path: "/public", Security: Public()}, handler)
		huma.Register(api, huma.Operation{OperationID: "read", Method: http.MethodGet, Path: "/read", Security: Requirement(ScopeRead)}, handler)
		return api
	}
	guarded := newAPI(testKeys(t, "reader:read:"+secretA+",ops:read+admin:"+secretB))
	open := newAPI(nil)
	bearer := func(s string) string { return "Authorization: Bearer " + s }
	for _, tc := range []struct {
		name   string
		api    humatest.TestAPI
		path   string
		header string
		want   string
	}{
		{"public, no key", guarded, "/public", "", "none"},
		{"public, unknown key", guarded, "/public", bearer("nonsense-nonsense-nonsense-nonsense"), "none"},
		{"public, another scheme", guarded, "/public", "Authorization: Basic " + secretB, "none"},
		{"public, read key", guarded, "/public", bearer(secretA), "read"},
		{"public, admin key", guarded, "/public", bearer(secretB), "read+admin"},
		{"public, admin key in X-API-Key", guarded, "/public", HeaderAPIKey + ": " + secretB, "read+admin"},
		{"guarded, read key", guarded, "/read", bearer(secretA), "read"},
		{"guarded, admin key", guarded, "/read", bearer(secretB), "read+admin"},
		{"open mode, public", open, "/public", "", "ingest+read+admin"},
		{"open mode, guarded", open, "/read", "", "ingest+read+admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			w := do(tc.api, tc.path, "192.0.2.7:1234", headers...)
			var out struct{ Granted string }
			if err := json.Unmarshal(w.Body.Bytes(), &out); w.Code != 200 || err != nil || out.Granted != tc.want {
				t.Fatalf("GET %s: %d %s, want 200 granting %s", tc.path, w.Code, w.Body, tc.want)
			}
		})
	}
	if got := Granted(context.Background()); got != 0 {
		t.Fatalf("outside the guard: %s, want none", got)
	}
}
