package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestSIGTERMUnderLoadLosesNothing runs the real binary on PostgreSQL with
// the embedded Kafka, sends SIGTERM while clients post events and ask for
// recommendations, and checks after it exited that every event answered
// 202 is stored and every list answered 200 was logged: HTTP finished its
// in-flight requests, the event stream was drained, offsets committed and
// analytics flushed.
func TestSIGTERMUnderLoadLosesNothing(t *testing.T) {
	dbURL := os.Getenv("MARQUEE_TEST_DATABASE_URL")
	if dbURL == "" {
		dbURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (run deploy/local/postgres.sh): %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("marquee_sigterm_%d", rand.Uint32())
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })

	bin := marqueeBin
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "MARQUEE_HTTP_ADDR="+addr, "MARQUEE_DATABASE_URL="+dbURL, "MARQUEE_DATABASE_SCHEMA="+schema,
		"MARQUEE_KAFKA_DATA_DIR="+filepath.Join(t.TempDir(), "kafka"),
		"MARQUEE_DEMO=true", "MARQUEE_DEMO_USERS=50", "MARQUEE_TRAIN_CRON=off", "MARQUEE_ARCHIVE_EVERY=off",
		"MARQUEE_ACCEPT_UNKNOWN_MOVIES=true", "MARQUEE_INSECURE_DEV=true")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not become ready:\n%s", logs.String())
		}
	}

	var (
		mu       sync.Mutex
		accepted []string
		served   int
		seq      int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				seq++
				n := seq
				mu.Unlock()
				if n%2 == 0 {
					r, err := client.Get(fmt.Sprintf("%s/api/recommendations?user_id=user_%d&n=5", base, n%50))
					if err != nil {
						continue
					}
					r.Body.Close()
					if r.StatusCode == http.StatusOK {
						mu.Lock()
						served++
						mu.Unlock()
					}
					continue
				}
				var evs []map[string]any
				var ids []string
				for i := 0; i < 20; i++ {
					id := fmt.Sprintf("sigterm-%d-%d", n, i)
					ids = append(ids, id)
					evs = append(evs, map[string]any{"event_id": id, "user_id": fmt.Sprint("user_", (n+i)%50),
						"movie_id": fmt.Sprint("m", i), "type": "click"})
				}
				body, _ := json.Marshal(map[string]any{"events": evs})
				r, err := client.Post(base+"/api/events", "application/json", bytes.NewReader(body))
				if err != nil {
					continue
				}
				r.Body.Close()
				if r.StatusCode == http.StatusAccepted {
					mu.Lock()
					accepted = append(accepted, ids...)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no exit 60 s after SIGTERM:\n%s", logs.String())
	}
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(accepted) == 0 || served == 0 {
		t.Fatalf("no load got through before SIGTERM (%d events, %d lists)", len(accepted), served)
	}
	var stored int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".rt_user_interactions WHERE event_id = ANY($1)", accepted).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var logged int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".recommendation_logs").Scan(&logged); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM under load: %d events accepted, %d stored; %d lists served, %d logged", len(accepted), stored, served, logged)
	if stored != len(accepted) {
		t.Fatalf("%d of %d accepted events were lost", len(accepted)-stored, len(accepted))
	}
	if logged < served {
		t.Fatalf("%d of %d served lists were not logged", served-logged, served)
	}
}
