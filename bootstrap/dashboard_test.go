package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/simulate"
)

// dashChromium is where Debian's Chromium lives (deploy/local/chromium.sh
// installs it).
const dashChromium = "/usr/bin/chromium"

// dashCharts are the cards of the dashboard that must show data, with the
// fewest data points each must have on this test's instance.
var dashCharts = map[string]int{
	"totals": 1, "coverage": 1, "ctr-by-tier": 3, "tier-mix": 3, "latency": 9, "freshness": 1,
	"ctr-by-model": 1, "model-history": 2, "training": 1, "explain": 3,
}

// TestDashboardInBrowser loads /dashboard of a seeded node in headless
// Chromium and checks that every chart rendered with data and that the
// page logged no error. The node gets a day of served-list history
// written straight into its analytics store (hours cannot be waited for),
// then live traffic from simulated users, and a second model trained over
// HTTP. With MARQUEE_UPDATE_SCREENSHOT=1 it writes docs/img/dashboard.png.
func TestDashboardInBrowser(t *testing.T) {
	browser := dashBrowserPath(t)
	start := time.Now()
	app := dashApp(t)
	base := app.URL()
	dashSeedHistory(t, app, 23)

	sum, err := simulate.Run(context.Background(), simulate.Config{
		URL: base, Users: 300, NewUsers: 0.08, Duration: 3 * time.Second, Rate: 60, Seed: 1,
	})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	t.Logf("live traffic: %s", sum)
	if sum.Clicked == 0 || sum.Failures > 0 {
		t.Fatalf("simulated users clicked %d lists with %d failures (%s); want clicks and no failures", sum.Clicked, sum.Failures, sum.LastError)
	}
	for _, tier := range []domain.Tier{domain.TierCache, domain.TierVector, domain.TierPopular} {
		if sum.ByTier[string(tier)].Lists == 0 {
			t.Errorf("no list served by the %s tier: %v", tier, sum.ByTier)
		}
	}
	dashTrain(t, base)
	// Some traffic on the new model too.
	if _, err := simulate.Run(context.Background(), simulate.Config{
		URL: base, Users: 300, NewUsers: 0.08, Duration: time.Second, Rate: 60, Seed: 1,
	}); err != nil {
		t.Fatalf("simulate after training: %v", err)
	}
	t.Logf("node ready with traffic and two models after %s", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// Every console error, uncaught exception and browser-log error
	// (a failed load, a CSP violation) fails the test.
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(bctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()

	loaded := time.Now()
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1440, 1000),
		chromedp.Navigate(base+"/dashboard"),
	); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.ready === "true"`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the dashboard never set body[data-ready]: %v", err)
	}
	t.Logf("dashboard ready %s after navigation", time.Since(loaded).Round(time.Millisecond))

	points, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(e => [e.dataset.chart, e.dataset.points || '']))`))
	if err != nil {
		t.Fatal(err)
	}
	for chart, least := range dashCharts {
		n, err := strconv.Atoi(points[chart])
		if err != nil || n < least {
			t.Errorf("chart %s shows %q data points, want at least %d", chart, points[chart], least)
		}
	}
	for chart := range points {
		if _, ok := dashCharts[chart]; !ok {
			t.Errorf("chart %s is on the page but not checked by this test", chart)
		}
	}
	// Drawn, not only counted: every canvas has a size and non-blank pixels.
	blank, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('canvas')].filter(c => {
		if (!c.width || !c.height) return true;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return false;
		return true;
	}).map(c => c.id)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(blank) > 0 {
		t.Errorf("blank canvases: %v", blank)
	}
	if state, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#node-state b').textContent`)); err != nil || state != "ready" {
		t.Errorf("header node state = %q (%v), want ready", state, err)
	}

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if os.Getenv("MARQUEE_UPDATE_SCREENSHOT") == "1" {
		shot = filepath.Join("..", "docs", "img", "dashboard.png")
		if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d KB)", shot, len(png)/1024)

	// The window selector re-reads the summary: daily periods for 7 days.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-window="7d"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`document.getElementById('ctr-hint').textContent === 'per day' && +document.querySelector('[data-chart="ctr-by-tier"]').dataset.points > 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the 7-day window did not render: %v", err)
	}

	cancelBrowser()
	<-listening
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
}

// dashBrowserPath returns Chromium's path, or skips the test (fails it
// under CI=true) when Chromium is not installed.
func dashBrowserPath(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath(dashChromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true): run deploy/local/chromium.sh", dashChromium)
		}
		t.Skipf("%s is missing: run deploy/local/chromium.sh (as root) for the browser test", dashChromium)
	}
	return dashChromium
}

// dashApp runs an embedded node with a small demo on a free port.
func dashApp(t *testing.T) *App {
	t.Helper()
	env := map[string]string{"MARQUEE_HTTP_ADDR": "127.0.0.1:0", "MARQUEE_DEMO_USERS": "500", "MARQUEE_TRAIN_CRON": "off"}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, cleanup, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	return app
}

// dashTrain trains a second model over HTTP and waits for it.
func dashTrain(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Post(base+"/api/admin/train", "application/json", bytes.NewReader([]byte(`{"tune": false}`)))
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || err != nil {
		t.Fatalf("POST /api/admin/train: %d (%v)", resp.StatusCode, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var job struct {
			State, Error string
		}
		resp, err := http.Get(base + "/api/admin/train/" + started.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&job)
		resp.Body.Close()
		switch {
		case err != nil:
			t.Fatalf("GET the training job: %v", err)
		case job.State == "succeeded":
			return
		case job.State == "failed":
			t.Fatalf("training failed: %s", job.Error)
		case time.Now().After(deadline):
			t.Fatalf("training still %s after 30 s", job.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dashSeedHistory writes the served lists of the hours before the
// current one, with their clicks, straight into the analytics store: a
// day of traffic with a daily rhythm, so that the CTR-over-time chart has
// a history the test cannot wait for. Lists hold real catalog movies and
// their latencies are those the embedded node measures; the current hour
// holds only live traffic.
func dashSeedHistory(t *testing.T, app *App, hours int) {
	t.Helper()
	ctx := context.Background()
	movies, err := app.Stores.Catalog.List(ctx, "", 1000)
	if err != nil || len(movies) < 10 {
		t.Fatalf("catalog: %d movies (%v)", len(movies), err)
	}
	model, err := app.Stores.Models.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tiers := []struct {
		tier       domain.Tier
		share, ctr float64
		latency    time.Duration // median
	}{
		{domain.TierVector, 0.58, 0.40, 110 * time.Microsecond},
		{domain.TierCache, 0.34, 0.31, 35 * time.Microsecond},
		{domain.TierPopular, 0.08, 0.13, 40 * time.Microsecond},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now().UTC().Truncate(time.Hour)
	var lists []domain.Served
	var feedback []domain.Feedback
	for h := hours; h >= 1; h-- {
		hour := now.Add(-time.Duration(h) * time.Hour)
		rhythm := math.Sin(2 * math.Pi * float64(hour.Hour()-9) / 24) // busiest mid-afternoon
		for i := range 260 + int(160*rhythm) + rng.IntN(40) {
			x, k := rng.Float64(), 0
			for k < len(tiers)-1 && x > tiers[k].share {
				x -= tiers[k].share
				k++
			}
			tier := tiers[k]
			s := domain.Served{
				RecLogID:  fmt.Sprintf("seed-%d-%d", h, i),
				UserID:    domain.UserID(fmt.Sprintf("user_%d", rng.IntN(500))),
				ServedBy:  tier.tier,
				Latency:   time.Duration(float64(tier.latency) * math.Exp(0.45*rng.NormFloat64())),
				ServedAt:  hour.Add(time.Duration(rng.Int64N(int64(time.Hour)))),
				Requested: 10,
			}
			s.List = domain.RecList{Tier: tier.tier, GeneratedAt: s.ServedAt}
			if tier.tier != domain.TierPopular {
				s.List.ModelVersion = model.Version
			}
			for _, j := range rng.Perm(len(movies))[:10] {
				s.List.Items = append(s.List.Items, domain.ScoredMovie{MovieID: movies[j].ID, Title: movies[j].Title})
			}
			lists = append(lists, s)
			if rng.Float64() < tier.ctr*(1+0.2*rhythm) {
				pos := 1 + min(rng.IntN(10), rng.IntN(10)) // position bias
				feedback = append(feedback, domain.Feedback{
					RecLogID: s.RecLogID, EventID: "seed-click-" + s.RecLogID, UserID: s.UserID,
					MovieID: s.List.Items[pos-1].MovieID, Type: domain.EventClick,
					Time: s.ServedAt.Add(20 * time.Second), Tier: tier.tier, Position: pos,
				})
			}
		}
	}
	if err := app.Stores.Analytics.LogServed(ctx, lists...); err != nil {
		t.Fatal(err)
	}
	if err := app.Stores.Analytics.RecordFeedback(ctx, feedback...); err != nil {
		t.Fatal(err)
	}
}
