package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNode is just enough of Marquee's API: a catalog of horror and
// comedy films in two pages, lists of the first ten films the user has
// not clicked, and an events endpoint that records what it got.
type fakeNode struct {
	mu       sync.Mutex
	lists    map[string]string // rec_log_id → user
	clicked  map[string]map[string]bool
	events   []event
	eventIDs map[string]bool
	requests int
	users    map[string]bool
}

func newFakeNode(t *testing.T) *httptest.Server {
	t.Helper()
	n := &fakeNode{lists: map[string]string{}, clicked: map[string]map[string]bool{}, eventIDs: map[string]bool{}, users: map[string]bool{}}
	srv := httptest.NewServer(n)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { n.check(t) })
	return srv
}

func (n *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch r.URL.Path {
	case "/api/movies":
		type movie struct {
			ID     string   `json:"id"`
			Title  string   `json:"title"`
			Genres []string `json:"genres"`
		}
		var page struct {
			Movies    []movie `json:"movies"`
			NextAfter string  `json:"next_after,omitempty"`
		}
		start := 0
		if r.URL.Query().Get("after") != "" {
			start = 20
		} else {
			page.NextAfter = "m19"
		}
		for i := start; i < start+20; i++ {
			g := []string{"Horror", "Comedy"}[i%2]
			page.Movies = append(page.Movies, movie{ID: "m" + strconv.Itoa(i), Title: "Movie " + strconv.Itoa(i), Genres: []string{g}})
		}
		_ = json.NewEncoder(w).Encode(page)
	case "/api/recommendations":
		user := r.URL.Query().Get("user_id")
		n.requests++
		n.users[user] = true
		id := fmt.Sprintf("list-%d", n.requests)
		n.lists[id] = user
		tier := "vector"
		if strings.HasPrefix(user, "sim-") {
			tier = "popular"
		}
		var items []map[string]string
		for i := 0; len(items) < 10 && i < 40; i++ {
			if m := "m" + strconv.Itoa(i); !n.clicked[user][m] {
				items = append(items, map[string]string{"movie_id": m})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"tier": tier, "rec_log_id": id, "items": items})
	case "/api/events":
		var body struct{ Events []event }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		n.events = append(n.events, body.Events...)
		for _, e := range body.Events {
			if n.clicked[e.UserID] == nil {
				n.clicked[e.UserID] = map[string]bool{}
			}
			n.clicked[e.UserID][e.MovieID] = true
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]int{"accepted": len(body.Events), "rejected": 0})
	default:
		http.NotFound(w, r)
	}
}

// check verifies what the simulated users sent: every event carries the
// rec_log_id of a list served to that same user, has an id of its own,
// and a click comes first for each list.
func (n *fakeNode) check(t *testing.T) {
	n.mu.Lock()
	defer n.mu.Unlock()
	firstOfList := map[string]string{}
	for _, e := range n.events {
		if owner, ok := n.lists[e.RecLogID]; !ok || owner != e.UserID {
			t.Errorf("event %+v: rec_log_id not served to %s", e, e.UserID)
		}
		if n.eventIDs[e.EventID] {
			t.Errorf("event id %s sent twice", e.EventID)
		}
		n.eventIDs[e.EventID] = true
		if _, ok := firstOfList[e.RecLogID]; !ok {
			firstOfList[e.RecLogID] = e.Type
		}
	}
	for list, typ := range firstOfList {
		if typ != "click" {
			t.Errorf("list %s: first event %s, want click", list, typ)
		}
	}
}

// TestRunAgainstAFakeNode is not parallel: it measures the request rate,
// which the CPU-bound tests of the model would disturb.
func TestRunAgainstAFakeNode(t *testing.T) {
	srv := newFakeNode(t)
	var progress int
	var mu sync.Mutex
	sum, err := Run(context.Background(), Config{
		URL: srv.URL + "/", Users: 40, NewUsers: 0.1, Duration: 1500 * time.Millisecond, Rate: 200, Seed: 1,
		ProgressEvery: 500 * time.Millisecond,
		Progress:      func(Summary) { mu.Lock(); progress++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum)
	if sum.Failures != 0 {
		t.Fatalf("%d failures: %s", sum.Failures, sum.LastError)
	}
	// 200/s for 1.5 s, give or take scheduling.
	if sum.Lists < 120 || sum.Lists > 320 {
		t.Errorf("%d lists in 1.5 s at 200/s", sum.Lists)
	}
	if sum.Clicked == 0 || sum.Events < sum.Clicked || sum.CTR() <= 0 || sum.CTR() >= 1 {
		t.Errorf("%d lists, %d clicked, %d events: want some but not all lists clicked", sum.Lists, sum.Clicked, sum.Events)
	}
	if sum.NewUsers == 0 || sum.ByTier["popular"].Lists < sum.NewUsers || sum.ByTier["vector"].Lists == 0 {
		t.Errorf("%d new users, by tier %v: want new users served by the popular tier", sum.NewUsers, sum.ByTier)
	}
	total := 0
	for _, c := range sum.ByTier {
		total += c.Lists
	}
	if total != sum.Lists {
		t.Errorf("tiers add up to %d lists of %d", total, sum.Lists)
	}
	if mu.Lock(); progress < 2 {
		t.Errorf("progress reported %d times in 1.5 s every 0.5 s", progress)
	}
	mu.Unlock()
	if s := sum.String(); !strings.Contains(s, "CTR") || !strings.Contains(s, "vector") {
		t.Errorf("summary %q", s)
	}
}

func TestRunTellsWhatIsWrong(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{Users: 1, Rate: 1}, "URL"},
		{"no users", Config{URL: down.URL, Rate: 1}, "users"},
		{"no rate", Config{URL: down.URL, Users: 1}, "rate"},
		{"bad new-user probability", Config{URL: down.URL, Users: 1, Rate: 1, NewUsers: 2}, "new-user"},
		{"node down", Config{URL: down.URL, Users: 1, Rate: 1}, "catalog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Run(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestTastesAreSynthsAndStable(t *testing.T) {
	t.Parallel()
	srv := newFakeNode(t)
	r := &runner{api: &client{base: srv.URL, http: http.DefaultClient}}
	movies, err := r.api.movies(context.Background())
	if err != nil || len(movies) != 40 {
		t.Fatalf("catalog: %d movies (%v), want both pages", len(movies), err)
	}
	// Two runs with the same seed give every user the same taste.
	a, b := &runner{cfg: Config{Users: 5, Seed: 3}}, &runner{cfg: Config{Users: 5, Seed: 3}}
	for _, x := range []*runner{a, b} {
		if err := x.prepare(movies); err != nil {
			t.Fatal(err)
		}
	}
	for u := range 5 {
		ta, tb := a.taste(u), b.taste(u)
		if fmt.Sprint(ta) != fmt.Sprint(tb) || len(ta.Genres) == 0 {
			t.Errorf("user %d: tastes %v and %v", u, ta, tb)
		}
		sum := 0.0
		for _, w := range ta.Weights {
			sum += w
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("user %d: weights sum to %g", u, sum)
		}
	}
}
