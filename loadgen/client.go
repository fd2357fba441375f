package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client speaks the few operations of Marquee's HTTP API the load needs,
// with net/http tuned for many concurrent requests to one host. It reads
// a recommendation's tier without decoding the whole answer, so that the
// generator spends as little as possible of the CPU it shares with the
// server.
type Client struct {
	base    string
	http    *http.Client
	headers http.Header
	bufs    sync.Pool
	// raw sends the GETs when base is plain http (nil otherwise).
	raw *rawGetter
}

// NewClient returns a client of the node at base (http://host:port).
// headers are sent with every request (an Authorization header, say).
func NewClient(base string, headers http.Header) *Client {
	tr := &http.Transport{
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c := &Client{
		base:    strings.TrimRight(base, "/"),
		http:    &http.Client{Transport: tr, Timeout: 30 * time.Second},
		headers: headers,
		bufs:    sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	if raw, err := newRawGetter(c.base, headers); err == nil {
		c.raw = raw
	}
	return c
}

// Close releases idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
	if c.raw != nil {
		c.raw.close()
	}
}

// Event is one interaction as POST /api/events takes it.
type Event struct {
	EventID  string   `json:"event_id,omitempty"`
	UserID   string   `json:"user_id"`
	MovieID  string   `json:"movie_id"`
	Type     string   `json:"type"`
	Value    *float64 `json:"value,omitempty"`
	RecLogID string   `json:"rec_log_id,omitempty"`
}

// Recs is the part of a recommendations answer the scenarios read.
type Recs struct {
	Tier       string `json:"tier"`
	SourceTier string `json:"source_tier"`
	Items      []struct {
		MovieID string `json:"movie_id"`
	} `json:"items"`
}

// IDs returns the recommended movie ids in order.
func (r Recs) IDs() []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.MovieID
	}
	return out
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Body)
}

func recsPath(user string, n int) string {
	return "/api/recommendations?user_id=" + url.QueryEscape(user) + "&n=" + strconv.Itoa(n)
}

// Tier requests user's recommendations and returns only the tier that
// answered, found in the raw answer without decoding it.
func (c *Client) Tier(ctx context.Context, user string, n int) (string, error) {
	var tier string
	err := c.do(ctx, http.MethodGet, recsPath(user, n), nil, func(body []byte) error {
		var ok bool
		if tier, ok = jsonString(body, `"tier":`); !ok {
			return fmt.Errorf("GET /api/recommendations: no tier in the answer: %.200s", body)
		}
		return nil
	})
	return tier, err
}

// Recommend requests user's recommendations and decodes them.
func (c *Client) Recommend(ctx context.Context, user string, n int) (Recs, error) {
	var r Recs
	err := c.do(ctx, http.MethodGet, recsPath(user, n), nil, func(body []byte) error {
		return json.Unmarshal(body, &r)
	})
	return r, err
}

// Post sends events (as one batch when there are several) and returns how
// many the node accepted.
func (c *Client) Post(ctx context.Context, events ...Event) (accepted int, err error) {
	var body []byte
	if len(events) == 1 {
		body, err = json.Marshal(events[0])
	} else {
		body, err = json.Marshal(struct {
			Events []Event `json:"events"`
		}{events})
	}
	if err != nil {
		return 0, err
	}
	err = c.do(ctx, http.MethodPost, "/api/events", body, func(b []byte) error {
		n, ok := jsonInt(b, `"accepted":`)
		if !ok {
			return fmt.Errorf("POST /api/events: no accepted count in the answer: %.200s", b)
		}
		accepted = n
		return nil
	})
	return accepted, err
}

// HistoryEvent is one stored interaction of a user.
type HistoryEvent struct {
	MovieID string  `json:"movie_id"`
	Type    string  `json:"type"`
	Weight  float64 `json:"weight"`
}

// History returns the user's newest stored events (at most limit, ≤ 1000)
// and how many are stored in all.
func (c *Client) History(ctx context.Context, user string, limit int) ([]HistoryEvent, int, error) {
	var h struct {
		Events []HistoryEvent `json:"events"`
		Total  int            `json:"total"`
	}
	path := "/api/users/" + url.PathEscape(user) + "/history?limit=" + strconv.Itoa(limit)
	err := c.do(ctx, http.MethodGet, path, nil, func(b []byte) error { return json.Unmarshal(b, &h) })
	return h.Events, h.Total, err
}

// Movies returns the ids of the catalog, up to max (0: all).
func (c *Client) Movies(ctx context.Context, max int) ([]string, error) {
	var ids []string
	after := ""
	for {
		var page struct {
			Movies []struct {
				ID string `json:"id"`
			} `json:"movies"`
			NextAfter string `json:"next_after"`
		}
		path := "/api/movies?limit=1000"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		if err := c.do(ctx, http.MethodGet, path, nil, func(b []byte) error { return json.Unmarshal(b, &page) }); err != nil {
			return nil, err
		}
		for _, m := range page.Movies {
			ids = append(ids, m.ID)
			if max > 0 && len(ids) == max {
				return ids, nil
			}
		}
		if page.NextAfter == "" || len(page.Movies) == 0 {
			return ids, nil
		}
		after = page.NextAfter
	}
}

// Metrics returns the values of the named unlabelled series of /metrics
// (counters and gauges); a name the node does not export is absent.
func (c *Client) Metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	err := c.do(ctx, http.MethodGet, "/metrics", nil, func(b []byte) error {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok || !want[name] {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return fmt.Errorf("metric %s: %w", name, err)
			}
			out[name] = v
		}
		return sc.Err()
	})
	return out, err
}

// do sends one request and hands the whole answer to read (the buffer is
// reused after read returns). Non-2xx answers are StatusErrors.
func (c *Client) do(ctx context.Context, method, path string, body []byte, read func([]byte) error) error {
	if method == http.MethodGet && c.raw != nil {
		return c.raw.get(ctx, path, func(status int, b []byte) error {
			if status/100 != 2 {
				return &StatusError{Method: method, Path: pathOnly(path), Status: status, Body: string(bytes.TrimSpace(b[:min(len(b), 512)]))}
			}
			return read(b)
		})
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	buf := c.bufs.Get().(*bytes.Buffer)
	defer c.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, pathOnly(path), err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Method: method, Path: pathOnly(path), Status: resp.StatusCode, Body: string(bytes.TrimSpace(buf.Bytes()[:min(buf.Len(), 512)]))}
	}
	return read(buf.Bytes())
}

func pathOnly(p string) string { return strings.SplitN(p, "?", 2)[0] }

// jsonString finds key (with its quotes and colon) at the top level of a
// compact JSON object and returns its string value, which must need no
// unescaping (tiers and ids do not). It is a scan, not a parse: the
// answers come from Marquee, whose encoder writes no spaces.
func jsonString(b []byte, key string) (string, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := b[i+len(key):]
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// jsonInt is jsonString for a non-negative integer value.
func jsonInt(b []byte, key string) (int, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := b[i+len(key):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil
}
