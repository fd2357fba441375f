package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reply is the status and header of an answer (do returns the body).
type reply struct {
	StatusCode int
	Header     http.Header
}

// do sends a request without following redirects or decompressing.
func do(t *testing.T, method, url string, header map[string]string) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}, body
}

// pageAssets are the files index.html loads.
func pageAssets(t *testing.T, index []byte) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"/:#?]+)"`).FindAllSubmatch(index, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) < 3 {
		t.Fatalf("index.html loads %v; want the script, the stylesheet and the icon", out)
	}
	return out
}

func TestDashboardPage(t *testing.T) {
	t.Parallel()
	srv := server(t)

	resp, _ := do(t, http.MethodGet, srv.URL+"/dashboard?x=1", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/dashboard/?x=1" {
		t.Fatalf("GET /dashboard: %d to %q, want 301 to /dashboard/?x=1", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp, index := do(t, http.MethodGet, srv.URL+"/dashboard/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dashboard/: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-cache",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("page %s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("page CSP = %q", csp)
	}
	if !bytes.Contains(index, []byte(`data-chart="ctr-by-tier"`)) {
		t.Error("the page has no CTR chart")
	}

	for _, name := range pageAssets(t, index) {
		resp, body := do(t, http.MethodGet, srv.URL+"/dashboard/"+name, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", name, resp.StatusCode, len(body))
			continue
		}
		wantType := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
			".svg": "image/svg+xml"}[name[strings.LastIndex(name, "."):]]
		if got := resp.Header.Get("Content-Type"); wantType != "" && got != wantType {
			t.Errorf("%s: Content-Type %q, want %q", name, got, wantType)
		}
		cache := resp.Header.Get("Cache-Control")
		if hashed.MatchString(name) != strings.Contains(cache, "immutable") {
			t.Errorf("%s: Cache-Control %q (immutable only for content-hashed names)", name, cache)
		}
	}
}

func TestDashboardAssetsConditionalAndCompressed(t *testing.T) {
	t.Parallel()
	srv := server(t)
	_, index := do(t, http.MethodGet, srv.URL+"/dashboard/", nil)
	var script string
	for _, name := range pageAssets(t, index) {
		if strings.HasSuffix(name, ".js") {
			script = name
		}
	}
	url := srv.URL + "/dashboard/" + script
	plain, body := do(t, http.MethodGet, url, nil)

	resp, zipped := do(t, http.MethodGet, url, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip not served: Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, body) || len(zipped) >= len(body) {
		t.Fatalf("gzip body: %d bytes for %d, equal after inflating: %v (%v)", len(zipped), len(body), bytes.Equal(unzipped, body), err)
	}
	if resp, _ := do(t, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip;q=0"}); resp.Header.Get("Content-Encoding") != "" {
		t.Error("gzip served although refused with q=0")
	}

	etag := plain.Header.Get("ETag")
	for _, match := range []string{etag, `"other", W/` + etag, "*"} {
		if resp, body := do(t, http.MethodGet, url, map[string]string{"If-None-Match": match}); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304", match, resp.StatusCode, len(body))
		}
	}
	if resp, _ := do(t, http.MethodGet, url, map[string]string{"If-None-Match": `"stale"`}); resp.StatusCode != http.StatusOK {
		t.Errorf("stale ETag: %d, want 200", resp.StatusCode)
	}
	if resp, body := do(t, http.MethodHead, url, nil); resp.StatusCode != http.StatusOK || len(body) != 0 ||
		resp.Header.Get("Content-Length") != plain.Header.Get("Content-Length") {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q, want 200, none, %q", resp.StatusCode, len(body),
			resp.Header.Get("Content-Length"), plain.Header.Get("Content-Length"))
	}
}

func TestDashboardUnknownFiles(t *testing.T) {
	t.Parallel()
	srv := server(t)
	for _, p := range []string{"/dashboard/nope.js", "/dashboard/web.go", "/dashboard/dist/index.html", "/dashboardx"} {
		if resp, _ := do(t, http.MethodGet, srv.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := do(t, http.MethodPost, srv.URL+"/dashboard/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /dashboard/: %d, want 405", resp.StatusCode)
	}
}

func TestDashboardShipsLicences(t *testing.T) {
	t.Parallel()
	srv := server(t)
	for _, name := range []string{"LICENSE.chart.js.md", "LICENSE.kurkle-color.md"} {
		resp, body := do(t, http.MethodGet, srv.URL+"/dashboard/"+name, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("MIT License")) {
			t.Errorf("%s: %d, MIT licence text: %v", name, resp.StatusCode, bytes.Contains(body, []byte("MIT License")))
		}
	}
}

func TestLoadNeedsTheIndex(t *testing.T) {
	t.Parallel()
	if _, err := load(fstest.MapFS{"dist/app.js": {Data: []byte("1")}}); err == nil || !strings.Contains(err.Error(), "make web") {
		t.Fatalf("load without index.html: %v, want an error saying to run make web", err)
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "br, gzip": true, "gzip;q=0": false, "gzip; q=0.5": true,
		"*": true, "identity": false, "deflate, br": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
