package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/auth"
)

// The keys of the auth tests: one per scope and one with all of them.
const (
	ingestSecret = "ingest-0123456789abcdef0123456789abcdef"
	readSecret   = "read-0123456789abcdef0123456789abcdef01"
	adminSecret  = "admin-0123456789abcdef0123456789abcdef0"
	allSecret    = "all-0123456789abcdef0123456789abcdef012"
	testAPIKeys  = "ingester:ingest:" + ingestSecret + ",reader:read:" + readSecret +
		",operator:admin:" + adminSecret + ",everything:ingest+read+admin:" + allSecret
)

// syncBuffer is a log sink the server's goroutines may write to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startLogged runs a node configured by env on a free port, logging at
// debug level into the returned buffer.
func startLogged(t *testing.T, env map[string]string) (*App, *syncBuffer) {
	t.Helper()
	env["MARQUEE_HTTP_ADDR"] = "127.0.0.1:0"
	withDataDir(t, env)
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	app, cleanup, err := New(ctx, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		cleanup()
	})
	return app, logs
}

// reply is an answer, read and closed.
type reply struct {
	code   int
	header http.Header
	body   string
}

// send makes one request: authorization, when set, is the Authorization
// header, and extra headers are "Name: value".
func send(t *testing.T, method, url, body, authorization string, extra ...string) reply {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for _, h := range extra {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// routeCase is how to call one operation with valid input, and what it
// answers with a key holding the scope it needs.
type routeCase struct {
	scope string // "" for a public operation
	path  string
	body  string
	want  int
}

// TestEveryRouteEveryScope calls every operation of the served contract
// with no key, a bad key, a key of each single scope and a key of all
// scopes, and checks the status of each: the handler's own answer where the
// key may call it, 401 or 403 otherwise. The operations come from the
// contract the node serves (generated from the registered operations), so
// a route added without an expectation here fails the test, as does one
// whose declared scope differs from the expected one.
func TestEveryRouteEveryScope(t *testing.T) {
	app, _ := startLogged(t, map[string]string{"MARQUEE_DEMO_USERS": "50", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_API_KEYS": testAPIKeys})
	movies, err := app.Stores.Catalog.List(context.Background(), "", 1)
	if err != nil || len(movies) == 0 {
		t.Fatalf("no demo catalog: %v", err)
	}
	movie := string(movies[0].ID)
	routes := map[string]routeCase{
		"POST /api/events":                         {"ingest", "/api/events", `{"user_id":"auth-user","movie_id":"` + movie + `","type":"click"}`, 202},
		"GET /api/recommendations":                 {"read", "/api/recommendations?user_id=user_1&n=3", "", 200},
		"POST /api/recommendations/session":        {"read", "/api/recommendations/session", `{"items":[{"movie_id":"` + movie + `","type":"like"}]}`, 200},
		"GET /api/popular":                         {"read", "/api/popular?n=3", "", 200},
		"GET /api/movies":                          {"read", "/api/movies?limit=2", "", 200},
		"GET /api/movies/{id}":                     {"read", "/api/movies/" + movie, "", 200},
		"GET /api/movies/{id}/similar":             {"read", "/api/movies/" + movie + "/similar?n=3&genre=Drama", "", 200},
		"GET /api/latest":                          {"read", "/api/latest?n=3", "", 200},
		"PATCH /api/movies/{id}":                   {"admin", "/api/movies/" + movie, `{"hidden":false}`, 200},
		"DELETE /api/movies/{id}":                  {"admin", "/api/movies/auth-deleted-movie", "", 204},
		"PUT /api/movies/{id}":                     {"admin", "/api/movies/auth-test-movie", `{"title":"Auth Test"}`, 200},
		"POST /api/movies":                         {"admin", "/api/movies", `{"movies":[{"id":"auth-test-2","title":"Auth Test 2"}]}`, 200},
		"GET /api/users/{id}/history":              {"read", "/api/users/user_1/history?limit=2", "", 200},
		"DELETE /api/users/{id}":                   {"admin", "/api/users/auth-deleted-user", "", 200},
		"DELETE /api/users/{id}/events/{event_id}": {"ingest|admin", "/api/users/auth-user/events/auth-no-such-event", "", 204},
		"GET /api/analytics/summary":               {"read", "/api/analytics/summary", "", 200},
		"POST /api/admin/train":                    {"admin", "/api/admin/train", `{"tune":false}`, 202},
		"GET /api/admin/train/{id}":                {"admin", "/api/admin/train/train-nope", "", 404},
		"GET /api/admin/training":                  {"admin", "/api/admin/training", "", 200},
		"GET /api/admin/models":                    {"admin", "/api/admin/models", "", 200},
		"POST /api/admin/models/{version}/promote": {"admin", "/api/admin/models/als-19990101-000000-000/promote", "", 404},
		"POST /api/admin/archive":                  {"admin", "/api/admin/archive", "", 202},
		"GET /api/admin/archive":                   {"admin", "/api/admin/archive", "", 200},
		"GET /healthz":                             {"", "/healthz", "", 200},
		"GET /readyz":                              {"", "/readyz", "", 200},
	}
	credentials := []struct {
		name, authorization string
		scopes              auth.Scope
	}{
		{"no key", "", 0},
		{"bad key", "Bearer not-a-key-0123456789abcdef0123456789", 0},
		{"ingest", "Bearer " + ingestSecret, auth.ScopeIngest},
		{"read", "Bearer " + readSecret, auth.ScopeRead},
		{"admin", "Bearer " + adminSecret, auth.ScopeAdmin},
		{"all scopes", "Bearer " + allSecret, auth.AllScopes},
	}

	var spec struct {
		Security []map[string][]string `json:"security"`
		Paths    map[string]map[string]struct {
			Security  *[]map[string][]string `json:"security"`
			Responses map[string]any         `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(send(t, "GET", app.URL()+"/openapi.json", "", "").body), &spec); err != nil {
		t.Fatal(err)
	}
	var served []string
	for path, item := range spec.Paths {
		for method, op := range item {
			route := strings.ToUpper(method) + " " + path
			served = append(served, route)
			rc, ok := routes[route]
			if !ok {
				t.Errorf("%s is served but has no expectation here: add it to routes with the scope it must need", route)
				continue
			}
			sec := spec.Security
			if op.Security != nil {
				sec = *op.Security
			}
			// Alternatives (a key holding any one of them may call it)
			// are joined by "|".
			var alts []string
			for _, alt := range sec {
				if roles, ok := alt[auth.SchemeBearer]; ok {
					alts = append(alts, strings.Join(roles, "+"))
				}
			}
			declared := strings.Join(alts, "|")
			if declared != rc.scope {
				t.Errorf("%s declares scope %q in the contract, want %q", route, declared, rc.scope)
			}
			for _, code := range []string{"401", "403", "429"} {
				if _, ok := op.Responses[code]; !ok && (code == "429" || rc.scope != "") {
					t.Errorf("%s does not document %s", route, code)
				}
			}
		}
	}
	for route := range routes {
		if !slices.Contains(served, route) {
			t.Errorf("%s has an expectation but is not served", route)
		}
	}
	sort.Strings(served)

	for _, route := range served {
		rc, ok := routes[route]
		if !ok {
			continue
		}
		method := strings.Fields(route)[0]
		for _, cred := range credentials {
			want := rc.want
			if rc.scope != "" {
				allowed := false
				for _, alt := range strings.Split(rc.scope, "|") {
					need, _ := auth.ParseScope(alt)
					allowed = allowed || cred.scopes.Has(need)
				}
				switch {
				case cred.authorization == "" || cred.scopes == 0:
					want = http.StatusUnauthorized
				case !allowed:
					want = http.StatusForbidden
				}
			}
			resp := send(t, method, app.URL()+rc.path, rc.body, cred.authorization)
			if resp.code != want {
				t.Errorf("%s with %s: %d, want %d: %.300s", route, cred.name, resp.code, want, resp.body)
				continue
			}
			if want == http.StatusUnauthorized || want == http.StatusForbidden {
				if ct := resp.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s with %s: content type %q", route, cred.name, ct)
				}
				if !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), `Bearer realm="marquee"`) {
					t.Errorf("%s with %s: WWW-Authenticate %q", route, cred.name, resp.header.Get("WWW-Authenticate"))
				}
			}
		}
	}

	// Beside the API: the contract, the docs, the dashboard and the
	// metrics are public.
	for _, path := range []string{"/openapi.yaml", "/openapi.json", "/docs", "/dashboard/", "/metrics"} {
		if resp := send(t, "GET", app.URL()+path, "", ""); resp.code != http.StatusOK {
			t.Errorf("GET %s without a key: %d", path, resp.code)
		}
	}
	// X-API-Key works as well as Authorization.
	if resp := send(t, "GET", app.URL()+"/api/popular", "", "", auth.HeaderAPIKey+": "+readSecret); resp.code != http.StatusOK {
		t.Fatalf("X-API-Key: %d %s", resp.code, resp.body)
	}
}

// TestRateLimitOverHTTP: a key past its burst gets 429 with Retry-After
// (whole seconds, rounded up) and a problem document, and other keys are
// not affected; without keys, each client address is limited.
func TestRateLimitOverHTTP(t *testing.T) {
	t.Run("per key", func(t *testing.T) {
		app, _ := startLogged(t, map[string]string{"MARQUEE_DEMO": "false", "MARQUEE_TRAIN_CRON": "off",
			"MARQUEE_API_KEYS": "slow:read:" + readSecret + ":0.01/2,fast:read:" + allSecret})
		get := func(secret string) reply {
			return send(t, "GET", app.URL()+"/api/popular", "", "Bearer "+secret)
		}
		for i := range 2 {
			if resp := get(readSecret); resp.code != 200 {
				t.Fatalf("request %d: %d", i+1, resp.code)
			}
		}
		resp := get(readSecret)
		// One request per 100 s: the next token is 99 to 100 s away.
		if ra, _ := strconv.Atoi(resp.header.Get("Retry-After")); resp.code != http.StatusTooManyRequests || ra < 99 || ra > 100 {
			t.Fatalf("third request: %d, Retry-After %q", resp.code, resp.header.Get("Retry-After"))
		}
		if resp.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(resp.body, `rate limit of key \"slow\"`) {
			t.Fatalf("429 body: %s", resp.body)
		}
		if resp := get(allSecret); resp.code != 200 {
			t.Fatalf("another key: %d", resp.code)
		}
		// Probes are limited per client address, not by the key's limit.
		if resp := send(t, "GET", app.URL()+"/healthz", "", ""); resp.code != 200 {
			t.Fatalf("healthz: %d", resp.code)
		}
	})
	t.Run("open mode, per client address", func(t *testing.T) {
		app, _ := startLogged(t, map[string]string{"MARQUEE_DEMO": "false", "MARQUEE_TRAIN_CRON": "off",
			"MARQUEE_RATE_LIMIT": "0.01", "MARQUEE_RATE_BURST": "3"})
		codes := []int{}
		for _, path := range []string{"/api/popular", "/api/admin/models", "/healthz", "/api/popular"} {
			resp := send(t, "GET", app.URL()+path, "", "")
			codes = append(codes, resp.code)
			if resp.code == http.StatusTooManyRequests && resp.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if !slices.Equal(codes, []int{200, 200, 200, 429}) {
			t.Fatalf("codes %v, want three 200 then 429", codes)
		}
	})
}

// TestOpenModeWarns: the embedded mode without keys serves, and says
// loudly that the API is open.
func TestOpenModeWarns(t *testing.T) {
	app, logs := startLogged(t, map[string]string{"MARQUEE_DEMO": "false", "MARQUEE_TRAIN_CRON": "off"})
	if !strings.Contains(logs.String(), "level=WARN msg=\"THE API IS OPEN") {
		t.Fatalf("no open-API warning in the logs:\n%s", logs)
	}
	if resp := send(t, "GET", app.URL()+"/api/admin/models", "", ""); resp.code != 200 {
		t.Fatalf("open mode refused: %d", resp.code)
	}
	app2, logs2 := startLogged(t, map[string]string{"MARQUEE_DEMO": "false", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_API_KEYS": testAPIKeys})
	if strings.Contains(logs2.String(), "OPEN") || !strings.Contains(logs2.String(), "API keys required") {
		t.Fatalf("a node with keys logged:\n%s", logs2)
	}
	if resp := send(t, "GET", app2.URL()+"/api/admin/models", "", ""); resp.code != http.StatusUnauthorized {
		t.Fatalf("a node with keys answered %d without one", resp.code)
	}
}

// TestNonEmbeddedWithoutKeysRefusesToStart: with an external Kafka (a
// kfake broker the test starts, standing in for one) and no keys, New
// fails naming the variables; MARQUEE_INSECURE_DEV=true lets it serve,
// open and warning.
func TestNonEmbeddedWithoutKeysRefusesToStart(t *testing.T) {
	broker, err := kafka.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	env := map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_KAFKA_BROKERS": strings.Join(broker.Addrs(), ","),
		"MARQUEE_KAFKA_GROUP": fmt.Sprint("auth-", rand.Uint32()), "MARQUEE_TRAIN_CRON": "off",
		"MARQUEE_KAFKA_SASL_MECHANISM": broker.Security().SASLMechanism, "MARQUEE_KAFKA_SASL_USERNAME": broker.Security().SASLUser,
		"MARQUEE_KAFKA_SASL_PASSWORD": broker.Security().SASLPassword}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, cleanup, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	cleanup()
	if err == nil {
		t.Fatal("a non-embedded node without keys started")
	}
	for _, want := range []string{"MARQUEE_API_KEYS", "MARQUEE_KAFKA_BROKERS", "MARQUEE_INSECURE_DEV=true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}

	env["MARQUEE_INSECURE_DEV"] = "true"
	app, logs := startLogged(t, env)
	if !strings.Contains(logs.String(), "THE API IS OPEN") || !strings.Contains(logs.String(), "insecure_dev=true") {
		t.Fatalf("no warning:\n%s", logs)
	}
	if resp := send(t, "GET", app.URL()+"/api/admin/models", "", ""); resp.code != http.StatusOK {
		t.Fatalf("MARQUEE_INSECURE_DEV=true, no key: %d", resp.code)
	}
}

// TestLogsHoldNoSecrets starts nodes configured with every kind of secret
// Marquee takes (API keys, the S3 secret key, passwords in the Redis and
// PostgreSQL URLs), uses them with good and bad keys, and checks that no
// secret appears in anything they logged at debug level.
func TestLogsHoldNoSecrets(t *testing.T) {
	const (
		s3Secret      = "s3-secret-Wq8vN2pLk5"
		redisPassword = "redis-pass-Zx7cV9bN3m"
		dbPassword    = "db-pass-Hj4kL8pQ2w"
	)
	secrets := []string{ingestSecret, readSecret, adminSecret, allSecret, s3Secret, redisPassword, dbPassword}
	check := func(t *testing.T, app *App, logs *syncBuffer) {
		t.Helper()
		for _, a := range []string{"", "Bearer " + readSecret, "Bearer " + ingestSecret, "Bearer " + readSecret + "x", "Basic " + adminSecret} {
			send(t, "GET", app.URL()+"/api/recommendations?user_id=user_1&n=3", "", a)
			send(t, "POST", app.URL()+"/api/admin/train", `{"tune":false}`, a)
		}
		out := logs.String()
		if !strings.Contains(out, "API keys required") {
			t.Fatalf("the node did not log (or did not require keys):\n%s", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("the logs hold the secret %q:\n%s", s, out)
			}
		}
	}
	env := func() map[string]string {
		return map[string]string{
			"MARQUEE_API_KEYS": testAPIKeys, "MARQUEE_DEMO_USERS": "30", "MARQUEE_TRAIN_CRON": "off",
			"MARQUEE_S3_ENDPOINT": "127.0.0.1:1", "MARQUEE_S3_ACCESS_KEY": "marquee", "MARQUEE_S3_SECRET_KEY": s3Secret,
			"MARQUEE_ARCHIVE_EVERY": "off",
			// Nothing listens there: every cache call fails and is logged.
			"MARQUEE_REDIS_URL": "redis://:" + redisPassword + "@127.0.0.1:1/0",
		}
	}
	t.Run("embedded", func(t *testing.T) {
		app, logs := startLogged(t, env())
		check(t, app, logs)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dbURL, _ := realServices(t)
		withPassword := strings.Replace(dbURL, "postgres://postgres@", "postgres://postgres:"+dbPassword+"@", 1)
		if withPassword == dbURL {
			t.Skipf("cannot add a password to %s", dbURL)
		}
		schema := fmt.Sprintf("marquee_auth_%d", rand.Uint32())
		t.Cleanup(func() {
			ctx := context.Background()
			if conn, err := pgx.Connect(ctx, dbURL); err == nil {
				_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				conn.Close(ctx)
			}
		})
		e := env()
		e["MARQUEE_DATABASE_URL"], e["MARQUEE_DATABASE_SCHEMA"], e["MARQUEE_DEMO"] = withPassword, schema, "true"
		app, logs := startLogged(t, e)
		check(t, app, logs)
	})
	t.Run("errors at start", func(t *testing.T) {
		e := env()
		e["MARQUEE_HTTP_ADDR"] = "127.0.0.1:0"
		e["MARQUEE_DATABASE_URL"] = "postgres://postgres:" + dbPassword + "@127.0.0.1:1/db?connect_timeout=1"
		withDataDir(t, e)
		cfg, err := LoadConfig(func(k string) string { return e[k] })
		if err != nil {
			t.Fatal(err)
		}
		_, cleanup, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		cleanup()
		if err == nil {
			t.Fatal("started without its database")
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the error holds the secret %q: %v", s, err)
			}
		}
	})
}

// TestDashboardAsksForAKey opens the dashboard of a node that requires
// keys: it asks for one, works with a read key (training progress then
// says it needs admin), asks again for a key that is refused, and shows
// everything with a key holding both scopes.
func TestDashboardAsksForAKey(t *testing.T) {
	browser := dashBrowserPath(t)
	app, _ := startLogged(t, map[string]string{"MARQUEE_DEMO_USERS": "50", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_API_KEYS": testAPIKeys})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	ready := func(what string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.ready === "true"`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("%s: the dashboard never got ready (banner: %q)", what, eval(`document.getElementById('banner').textContent`))
		}
	}
	enterKey := func(key string) {
		t.Helper()
		if err := chromedp.Do(bctx,
			chromedp.WaitVisible(`#banner form input[type=password]`),
			chromedp.SendKeys(`#banner form input`, key),
			chromedp.Click(`#banner form button`),
		); err != nil {
			t.Fatalf("enter the key: %v", err)
		}
	}

	if err := chromedp.Do(bctx, chromedp.Navigate(app.URL()+"/dashboard/")); err != nil {
		t.Fatal(err)
	}
	enterKey(readSecret)
	ready("with a read key")
	if got := eval(`document.getElementById('train-sub').textContent`); !strings.Contains(got, "admin scope") {
		t.Errorf("training card with a read key: %q", got)
	}
	if strings.Contains(eval(`document.documentElement.outerHTML + location.href + document.cookie`), readSecret) {
		t.Error("the key is in the page, the URL or a cookie")
	}

	// A refused key is dropped and asked for again.
	eval(`sessionStorage.setItem('marquee.apiKey', 'wrong-0123456789abcdef0123456789abcdef'); ''`)
	if err := chromedp.Do(bctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(document.querySelector('#banner form') || {}).textContent?.includes('refused') || false`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("no new request for a key after a refused one: %v", err)
	}
	enterKey(allSecret)
	ready("with a key of all scopes")
	if got := eval(`document.getElementById('train-sub').textContent`); strings.Contains(got, "admin scope") || got == "–" {
		t.Errorf("training card with an admin key: %q", got)
	}
}
