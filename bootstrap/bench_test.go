package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/domain"
)

// BenchmarkIngest measures events per second from POST /api/events through
// the embedded Kafka (kfake) to stored by their user actors: each op is one
// HTTP request carrying a batch, and the clock stops only when every event
// of every request has been applied. Four clients post concurrently.
//
// Without a model, applying an event is storing it and invalidating the
// cache; with the demo model (2,000 users with histories, 184 movies) every
// user message also recomputes the user's vector by exact fold-in.
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		batch int
		demo  bool
	}{{1, false}, {100, false}, {100, true}} {
		batch := bc.batch
		b.Run(fmt.Sprintf("batch=%d/model=%v", batch, bc.demo), func(b *testing.B) {
			cfg, err := LoadConfig(func(k string) string {
				return map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DEMO": fmt.Sprint(bc.demo),
					"MARQUEE_RATE_LIMIT": "off"}[k] // a load test, from one client address
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			app, cleanup, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer cleanup()
			go app.Run(ctx)
			if !bc.demo {
				var movies []domain.Movie
				for i := 0; i < 1000; i++ {
					movies = append(movies, domain.Movie{ID: domain.MovieID(fmt.Sprint("m", i)), Title: fmt.Sprint("Movie ", i)})
				}
				if err := app.Stores.Catalog.Put(ctx, movies...); err != nil {
					b.Fatal(err)
				}
			}
			catalog, err := app.Stores.Catalog.List(ctx, "", 1000)
			if err != nil {
				b.Fatal(err)
			}
			users := 5000
			if bc.demo {
				users = cfg.DemoUsers
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var seq atomic.Int64
			body := func() []byte {
				evs := make([]map[string]any, batch)
				for i := range evs {
					n := seq.Add(1)
					evs[i] = map[string]any{"event_id": fmt.Sprint("b", n), "user_id": fmt.Sprint("user_", n%int64(users)),
						"movie_id": catalog[n%int64(len(catalog))].ID, "type": "click"}
				}
				raw, _ := json.Marshal(map[string]any{"events": evs})
				return raw
			}
			base := testutil.ToFloat64(app.Metrics.EventsApplied)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			var next atomic.Int64
			for c := 0; c < 4; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						resp, err := client.Post(app.URL()+"/api/events", "application/json", bytes.NewReader(body()))
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			want := float64(b.N * batch)
			for testutil.ToFloat64(app.Metrics.EventsApplied)-base < want {
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("only %v of %v events applied", testutil.ToFloat64(app.Metrics.EventsApplied)-base, want)
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(want/time.Since(start).Seconds(), "events/s")
		})
	}
}
