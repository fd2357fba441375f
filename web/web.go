// Package web serves Marquee's dashboard: the page at /dashboard/ and its
// assets, built from web/src by `make web` (npm and esbuild) into
// web/dist and embedded in the binary, so that the Go build never needs
// npm. The page reads the JSON API of the node that serves it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
)

//go:embed dist
var dist embed.FS

// Prefix is where the dashboard is served.
const Prefix = "/dashboard/"

// hashed matches the content-hashed names esbuild gives bundles
// (app-PDC72FMT.css): they never change content, so they may be cached
// for good.
var hashed = regexp.MustCompile(`-[A-Z0-9]{8}\.(js|css)$`)

// asset is one file, ready to serve.
type asset struct {
	body, gzipped []byte
	contentType   string
	etag          string
	cacheControl  string
}

// Register serves the dashboard on mux: /dashboard redirects to
// /dashboard/, which is the page; /dashboard/<file> are its assets.
func Register(mux *http.ServeMux) {
	h := Handler()
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
	mux.Handle("GET "+Prefix, h)
}

// embedded is the dashboard compiled into the binary, read and
// compressed once per process however many servers mount it.
var embedded = sync.OnceValues(func() (map[string]*asset, error) { return load(dist) })

// Handler serves the files of the dashboard below Prefix.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assets, err := embedded()
		if err != nil {
			// Only a broken build gets here: the files are compiled in.
			http.Error(w, "dashboard unavailable: "+err.Error(), http.StatusInternalServerError)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	})
}

// load reads every file of the embedded dist/ and precomputes what
// serving it needs.
func load(fsys fs.FS) (map[string]*asset, error) {
	sub, err := fs.Sub(fsys, "dist")
	if err != nil {
		return nil, err
	}
	assets := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a := &asset{
			body:        body,
			contentType: contentType(p),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			// The page and unhashed files are revalidated on every load
			// (cheap: a 304 by ETag), so a new binary's dashboard shows at
			// once; hashed bundles never change.
			cacheControl: "no-cache",
		}
		if hashed.MatchString(p) {
			a.cacheControl = "public, max-age=31536000, immutable"
		}
		if compressible(a.contentType) && len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			if _, err := zw.Write(body); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			a.gzipped = buf.Bytes()
		}
		assets[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := assets["index.html"]; !ok {
		return nil, fmt.Errorf("dist/index.html is missing: run make web")
	}
	return assets, nil
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cacheControl)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(a.contentType, "text/html") {
		// Everything the page loads comes from this origin; Chart.js
		// sizes canvases through the style property, which this allows.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "same-origin")
	}
	if a.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gzipped != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// contentType is the media type of a dashboard file by its extension.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "image/svg+xml"
}

// acceptsGzip reports whether the request accepts gzip (and does not
// refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// etagMatches implements the weak comparison of If-None-Match.
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}
