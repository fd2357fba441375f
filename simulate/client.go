package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/marquee-recsys/marquee/domain"
)

// client speaks Marquee's HTTP API with net/http: the few operations the
// simulation needs, with no dependency on the generated SDK.
type client struct {
	base string
	http *http.Client
}

// recList is the part of a recommendations answer the simulation reads.
type recList struct {
	Tier     string `json:"tier"`
	RecLogID string `json:"rec_log_id"`
	Items    []struct {
		MovieID string `json:"movie_id"`
	} `json:"items"`
}

// event is one interaction as POST /api/events takes it.
type event struct {
	EventID  string `json:"event_id"`
	UserID   string `json:"user_id"`
	MovieID  string `json:"movie_id"`
	Type     string `json:"type"`
	RecLogID string `json:"rec_log_id,omitempty"`
}

// movies returns the whole catalog, page by page.
func (c *client) movies(ctx context.Context) ([]domain.Movie, error) {
	var all []domain.Movie
	after := ""
	for {
		var page struct {
			Movies []struct {
				ID     string   `json:"id"`
				Title  string   `json:"title"`
				Year   int      `json:"year"`
				Genres []string `json:"genres"`
			} `json:"movies"`
			NextAfter string `json:"next_after"`
		}
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		if err := c.get(ctx, "/api/movies?"+q.Encode(), &page); err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		for _, m := range page.Movies {
			all = append(all, domain.Movie{ID: domain.MovieID(m.ID), Title: m.Title, Year: m.Year, Genres: m.Genres})
		}
		if page.NextAfter == "" || len(page.Movies) == 0 {
			return all, nil
		}
		after = page.NextAfter
	}
}

// recommend asks for user's next n recommendations.
func (c *client) recommend(ctx context.Context, user string, n int) (recList, error) {
	var r recList
	q := url.Values{"user_id": {user}, "n": {strconv.Itoa(n)}}
	err := c.get(ctx, "/api/recommendations?"+q.Encode(), &r)
	return r, err
}

// send posts events as one batch and fails unless all were accepted.
func (c *client) send(ctx context.Context, events []event) error {
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		return err
	}
	var out struct {
		Accepted int `json:"accepted"`
		Rejected int `json:"rejected"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/events", body, &out); err != nil {
		return err
	}
	if out.Rejected > 0 {
		return fmt.Errorf("POST /api/events: %d of %d events rejected", out.Rejected, len(events))
	}
	return nil
}

func (c *client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, strings.SplitN(path, "?", 2)[0], resp.Status, bytes.TrimSpace(msg))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, strings.SplitN(path, "?", 2)[0], err)
	}
	return nil
}
