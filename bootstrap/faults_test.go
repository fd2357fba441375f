package bootstrap

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/internal/testpg"
)

// availability sends n recommendation requests spread over the users and
// returns the fraction answered 200.
func availability(t *testing.T, c *marquee.ClientWithResponses, n int) float64 {
	t.Helper()
	ok := 0
	for i := 0; i < n; i++ {
		r, err := c.GetRecommendationsWithResponse(context.Background(), &marquee.GetRecommendationsParams{
			UserID: fmt.Sprint("user_", i%50), N: ptr(int64(5))})
		if err == nil && r.StatusCode() == http.StatusOK {
			ok++
		}
	}
	return float64(ok) / float64(n)
}

func ptr[T any](v T) *T { return &v }

// TestPostgresDown stops the database under a running node: events are
// still accepted and applied once it returns, recommendations keep coming
// (from what is reachable, popular in memory at worst), readiness says
// not ready meanwhile, and nothing accepted is lost.
func TestPostgresDown(t *testing.T) {
	pg := testpg.Start(t)
	_, redisURL := realServices(t)
	app := startAppEnv(t, map[string]string{
		"MARQUEE_DATABASE_URL": pg.URL(), "MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": fmt.Sprintf("pgdown%d", pg.Port()),
		"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "100", "MARQUEE_TIER_TIMEOUT": "100ms",
		"MARQUEE_INSECURE_DEV": "true", // keys are auth_test.go's subject
	})
	c := client(t, app)
	ctx := context.Background()
	if a := availability(t, c, 50); a != 1 {
		t.Fatalf("availability before the fault = %.2f", a)
	}

	pg.Stop()
	during := availability(t, c, 100)
	var events []marquee.EventIn
	for i := 0; i < 20; i++ {
		events = append(events, marquee.EventIn{EventID: ptr(fmt.Sprint("pgdown-", i)), UserID: fmt.Sprint("user_", i),
			MovieID: "alien-1979", Type: marquee.EventInTypeClick})
	}
	if code := postEvents(t, c, true, events...); code != http.StatusAccepted {
		t.Fatalf("POST /api/events with PostgreSQL down: %d, want 202 (Kafka holds the events)", code)
	}
	ready, err := c.GetReadyzWithResponse(ctx)
	if err != nil || ready.StatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with PostgreSQL down: %v %v", ready.StatusCode(), err)
	}

	pg.Start()
	back := time.Now()
	waitFor(t, "the events accepted during the outage to be applied", func() bool {
		for i := 0; i < 20; i++ {
			h, err := marquee.Check(c.GetUserHistoryWithResponse(ctx, fmt.Sprint("user_", i), &marquee.GetUserHistoryParams{Limit: ptr(int64(1000))}))
			if err != nil {
				return false
			}
			found := 0
			for _, ev := range h.JSON200.Events {
				if ev.EventID == fmt.Sprint("pgdown-", i) {
					found++
				}
			}
			if found != 1 {
				return false
			}
		}
		return true
	})
	recovered := time.Since(back)
	waitFor(t, "readiness back", func() bool {
		r, err := c.GetReadyzWithResponse(ctx)
		return err == nil && r.StatusCode() == http.StatusOK
	})
	t.Logf("PostgreSQL down: recommendations availability %.0f%% during the fault; events lost 0 of 20; applied %.1fs after the database returned",
		100*during, recovered.Seconds())
	if during < 1 {
		t.Fatalf("recommendations availability during the fault = %.2f, want 1", during)
	}
}

// TestKafkaDown stops the event stream under a running node: events are
// refused with 503 and Retry-After (never 202), readiness says not ready,
// and recommendations keep coming.
func TestKafkaDown(t *testing.T) {
	app := startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": "100"})
	c := client(t, app)
	ctx := context.Background()
	app.closeEmbedded()
	ev := marquee.EventIn{UserID: "user_1", MovieID: "alien-1979", Type: marquee.EventInTypeClick}
	body, err := marquee.SingleEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := c.PostEventsWithResponse(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode() != http.StatusServiceUnavailable || r.HTTPResponse.Header.Get("Retry-After") == "" {
		t.Fatalf("POST /api/events with Kafka down: %d (Retry-After %q), want 503 with Retry-After",
			r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"))
	}
	ready, err := c.GetReadyzWithResponse(ctx)
	if err != nil || ready.StatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Kafka down: %v %v", ready.StatusCode(), err)
	}
	a := availability(t, c, 50)
	t.Logf("Kafka down: POST /api/events refused with 503 after %.1fs; recommendations availability %.0f%%", time.Since(start).Seconds(), 100*a)
	if a != 1 {
		t.Fatalf("recommendations availability with Kafka down = %.2f", a)
	}
}

// ownMinIO is a MinIO server of the test's own (the binary
// deploy/local/minio.sh installed), that the test kills and restarts on
// the same port and data directory.
type ownMinIO struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
}

func startOwnMinIO(t *testing.T) *ownMinIO {
	t.Helper()
	script, err := os.ReadFile("../deploy/local/minio.sh")
	if err != nil {
		t.Fatal(err)
	}
	var version string
	for _, line := range strings.Split(string(script), "\n") {
		if v, ok := strings.CutPrefix(line, "MINIO_VERSION="); ok {
			version = v
		}
	}
	home, _ := os.UserHomeDir()
	bin := filepath.Join(home, ".cache", "marquee", "bin", "minio-"+version)
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MinIO is required under CI=true: %v (deploy/local/minio.sh installs it)", err)
		}
		t.Skip("no MinIO binary; run deploy/local/minio.sh")
	}
	m := &ownMinIO{t: t, bin: bin, dir: t.TempDir(), addr: freeAddr(t)}
	t.Cleanup(m.stop)
	m.start()
	return m
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start starts the server (again) and waits until it is live.
func (m *ownMinIO) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "server", "--quiet", "--address", m.addr, "--console-address", freeAddr(m.t), m.dir)
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=minioadmin", "MINIO_ROOT_PASSWORD=minioadmin")
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err := http.Get("http://" + m.addr + "/minio/health/live"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			m.t.Fatal("MinIO did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop kills the server, as a crash would look to Marquee.
func (m *ownMinIO) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}

// TestMinIODown kills the archive's object store under a running node:
// readiness stays 200 but says degraded and why, an archiving run fails
// and leaves every row hot, recommendations keep coming; once MinIO is
// back, readiness is clean again and the next run archives.
func TestMinIODown(t *testing.T) {
	minio := startOwnMinIO(t)
	dbURL, redisURL := realServices(t)
	schema := fmt.Sprintf("miniodown%d", time.Now().UnixNano())
	app := startAppEnv(t, map[string]string{
		"MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema, "MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": schema,
		"MARQUEE_S3_ENDPOINT": minio.addr, "MARQUEE_S3_ACCESS_KEY": "minioadmin", "MARQUEE_S3_SECRET_KEY": "minioadmin",
		"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "100", "MARQUEE_HOT_RETENTION": "1h", "MARQUEE_ARCHIVE_EVERY": "off",
		"MARQUEE_INSECURE_DEV": "true",
	})
	c := client(t, app)
	ctx := context.Background()
	hotRows := func() int {
		n := 0
		if err := app.Stores.Log.Scan(ctx, func(domain.Interaction) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := hotRows()

	minio.stop()
	ready, err := c.GetReadyzWithResponse(ctx)
	if err != nil || ready.StatusCode() != http.StatusOK || ready.JSON200.Status != "degraded" ||
		!strings.HasPrefix(ready.JSON200.Checks["archive"], "down") {
		t.Fatalf("/readyz with MinIO down: %d %s %v", ready.StatusCode(), ready.Body, err)
	}
	if run := archiveNow(t, c); run.Error == nil || run.Rows != 0 {
		t.Fatalf("archive run with MinIO down: %+v", run)
	}
	if n := hotRows(); n != before {
		t.Fatalf("hot rows %d after a failed run, were %d", n, before)
	}
	if a := availability(t, c, 50); a != 1 {
		t.Fatalf("recommendations availability with MinIO down = %.2f", a)
	}

	minio.start()
	ready, err = c.GetReadyzWithResponse(ctx)
	if err != nil || ready.StatusCode() != http.StatusOK || ready.JSON200.Status != "ready" {
		t.Fatalf("/readyz with MinIO back: %d %s %v", ready.StatusCode(), ready.Body, err)
	}
	run := archiveNow(t, c)
	if run.Error != nil || run.Rows == 0 {
		t.Fatalf("archive run with MinIO back: %+v", run)
	}
	if n := hotRows(); n != before-int(run.Rows) {
		t.Fatalf("hot rows %d after archiving %d of %d", n, run.Rows, before)
	}
	t.Logf("MinIO down: readiness degraded, archiving failed with every one of %d rows kept hot, recommendations 100%%; back: %d rows archived", before, run.Rows)
}
