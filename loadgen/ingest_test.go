package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNode is just enough of Marquee for the ingest scenario: it stores
// posted events per user (history totals), counts them in its metrics,
// and can be told to lose or duplicate the n-th event it accepts.
type fakeNode struct {
	mu       sync.Mutex
	stored   map[string]int
	accepted int
	applied  int
	lose     int // lose the lose-th event (1-based; 0: none)
	dup      int // store the dup-th event twice
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/api/movies":
		fmt.Fprint(w, `{"movies":[{"id":"m1"},{"id":"m2"},{"id":"m3"}]}`)
	case r.URL.Path == "/api/events":
		var body struct{ Events []Event }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, ev := range body.Events {
			f.accepted++
			switch f.accepted {
			case f.lose:
				continue
			case f.dup:
				f.stored[ev.UserID]++
			}
			f.stored[ev.UserID]++
			f.applied++
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"accepted":%d,"rejected":0,"results":[]}`, len(body.Events))
	case strings.HasPrefix(r.URL.Path, "/api/users/"):
		user := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/users/"), "/history")
		fmt.Fprintf(w, `{"user_id":%q,"events":[],"total":%d}`, user, f.stored[user])
	case r.URL.Path == "/metrics":
		fmt.Fprintf(w, "%s %d\n%s %d\n%s 0\n", metricApplied, f.applied, metricAccepted, f.accepted, metricDuplicates)
	default:
		http.NotFound(w, r)
	}
}

func TestIngestZeroLossCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		lose, dup  int
		zeroLoss   bool
		lost, extr int64
	}{
		{"every event stored once", 0, 0, true, 0, 0},
		{"an event lost", 7, 0, false, 1, 0},
		{"an event stored twice", 0, 5, false, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			node := &fakeNode{stored: map[string]int{"user_3": 4}, lose: c.lose, dup: c.dup}
			srv := httptest.NewServer(node)
			t.Cleanup(srv.Close)
			cl := NewClient(srv.URL, nil)
			t.Cleanup(cl.Close)
			res, err := Ingest(context.Background(), cl, IngestConfig{
				Users: Users{Prefix: "user_", Count: 10}, Duration: 50 * time.Millisecond, Batch: 20, Workers: 2,
				Drain: 100 * time.Millisecond,
			}, "t")
			if c.lose == 0 && err != nil {
				t.Fatal(err)
			}
			if c.lose != 0 && err == nil {
				t.Error("a lost event should leave the wait for it to time out")
			}
			if res.Accepted == 0 || res.Accepted%20 != 0 || res.Sent != res.Accepted {
				t.Fatalf("accepted %d, sent %d: want whole batches", res.Accepted, res.Sent)
			}
			if res.ZeroLoss != c.zeroLoss || res.Lost != c.lost || res.Extra != c.extr {
				t.Fatalf("zero loss %v, lost %d, extra %d; want %v, %d, %d (%+v)", res.ZeroLoss, res.Lost, res.Extra, c.zeroLoss, c.lost, c.extr, res)
			}
			if c.zeroLoss && (res.Applied != res.Accepted || res.Stored != res.Accepted || res.PerSecond <= 0) {
				t.Fatalf("applied %d, stored %d, accepted %d, rate %v", res.Applied, res.Stored, res.Accepted, res.PerSecond)
			}
		})
	}
}
