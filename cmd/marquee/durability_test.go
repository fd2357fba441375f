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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/internal/testpg"
)

// The tests here hold the README's promise that an event answered 202 is
// never lost, the hard way: the node itself is killed with SIGKILL in the
// middle of a stream of batches and single events, or stopped with
// SIGTERM while its database is down, then started again on the same
// embedded broker log; every accepted event must then be stored, once.

// TestSIGKILLMidStreamLosesNothing kills a node on PostgreSQL with the
// durable embedded broker while eight clients post events.
func TestSIGKILLMidStreamLosesNothing(t *testing.T) {
	db, dbURL := sharedPostgres(t)
	schema := fmt.Sprintf("marquee_sigkill_%d", rand.Uint32())
	t.Cleanup(func() { _, _ = db.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	env := durableEnv(t, dbURL, schema)

	node := startProc(t, append(env, "MARQUEE_DEMO=true", "MARQUEE_DEMO_USERS=50"))
	load := startIngest(t, node.base, 6, 2)
	time.Sleep(3 * time.Second)
	inFlight := load.inFlight.Load()
	node.kill()
	load.stop()
	accepted := load.acceptedIDs()
	if len(accepted) < 2000 {
		t.Fatalf("only %d events accepted before the kill; the test needs thousands", len(accepted))
	}

	node = startProc(t, append(env, "MARQUEE_DEMO=false"))
	stored, rows := waitStored(t, db, schema, accepted, time.Minute)
	t.Logf("SIGKILL mid-stream: %d events accepted (%d in batches, %d single; %d requests in flight at the kill), %d stored, %d rows",
		len(accepted), load.batched.Load(), load.singles.Load(), inFlight, stored, rows)
	if stored != len(accepted) || rows != len(accepted) {
		t.Fatalf("%d of %d accepted events lost (%d rows)\n%s", len(accepted)-stored, len(accepted), rows, node.tail(40))
	}
	checkProfiles(t, db, schema)
}

// TestSIGTERMWhilePostgresDownLosesNothing stops the database under a
// node taking events, then the node with SIGTERM; the events accepted
// meanwhile (Kafka keeps them) are stored once both are back.
func TestSIGTERMWhilePostgresDownLosesNothing(t *testing.T) {
	pg := testpg.Start(t)
	db, err := pgx.Connect(context.Background(), pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	schema := "marquee_sigterm_pgdown"
	env := append(durableEnv(t, pg.URL(), schema), "MARQUEE_TIER_TIMEOUT=100ms", "MARQUEE_SHUTDOWN_TIMEOUT=20s")

	node := startProc(t, append(env, "MARQUEE_DEMO=true", "MARQUEE_DEMO_USERS=50"))
	load := startIngest(t, node.base, 3, 1)
	time.Sleep(time.Second)
	before := len(load.acceptedIDs())
	db.Close(context.Background())
	pg.Stop()
	time.Sleep(1500 * time.Millisecond)
	duringOutage := len(load.acceptedIDs()) - before
	start := time.Now()
	if err := node.term(45 * time.Second); err != nil {
		t.Fatalf("after SIGTERM with PostgreSQL down: %v\n%s", err, node.tail(40))
	}
	stopped := time.Since(start)
	load.stop()
	accepted := load.acceptedIDs()
	if duringOutage == 0 {
		t.Fatalf("no event was accepted while PostgreSQL was down (%d before)\n%s", before, node.tail(40))
	}

	pg.Start()
	if db, err = pgx.Connect(context.Background(), pg.URL()); err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	node = startProc(t, append(env, "MARQUEE_DEMO=false"))
	stored, rows := waitStored(t, db, schema, accepted, time.Minute)
	t.Logf("SIGTERM with PostgreSQL down: %d events accepted (%d during the outage), the node stopped in %v; after the restart %d stored, %d rows",
		len(accepted), duringOutage, stopped.Round(time.Millisecond), stored, rows)
	if stored != len(accepted) || rows != len(accepted) {
		t.Fatalf("%d of %d accepted events lost (%d rows)\n%s", len(accepted)-stored, len(accepted), rows, node.tail(40))
	}
	checkProfiles(t, db, schema)
}

// sharedPostgres connects to the test database (skipping, or failing
// under CI=true, without it).
func sharedPostgres(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	dbURL := envOr("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (run deploy/local/postgres.sh): %v", err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db, dbURL
}

// durableEnv configures a node on PostgreSQL with the embedded broker's
// log in a directory of the test's, on a fixed free port.
func durableEnv(t *testing.T, dbURL, schema string) []string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return []string{"MARQUEE_HTTP_ADDR=" + addr, "MARQUEE_DATABASE_URL=" + dbURL, "MARQUEE_DATABASE_SCHEMA=" + schema,
		"MARQUEE_KAFKA_DATA_DIR=" + filepath.Join(t.TempDir(), "kafka"), "MARQUEE_TRAIN_CRON=off", "MARQUEE_ARCHIVE_EVERY=off",
		"MARQUEE_ACCEPT_UNKNOWN_MOVIES=true", "MARQUEE_INSECURE_DEV=true", "MARQUEE_RATE_LIMIT=off"}
}

// waitStored waits until every id is in the hot table, or within passes,
// and returns how many are (distinct) and how many rows hold them.
func waitStored(t *testing.T, db *pgx.Conn, schema string, ids []string, within time.Duration) (distinct, rows int) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
		err := db.QueryRow(context.Background(), "SELECT count(DISTINCT event_id), count(*) FROM "+schema+".rt_user_interactions WHERE event_id = ANY($1)",
			ids).Scan(&distinct, &rows)
		if err != nil {
			t.Fatal(err)
		}
		if distinct == len(ids) || time.Now().After(deadline) {
			return distinct, rows
		}
	}
}

// checkProfiles expects every user's profile to count exactly the events
// the hot table holds for them: each event was applied once, not twice.
func checkProfiles(t *testing.T, db *pgx.Conn, schema string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var off int
		var example string
		err := db.QueryRow(context.Background(), `
			SELECT count(*), coalesce(min(h.user_id), '') FROM (
				SELECT user_id, count(*) AS n FROM `+schema+`.rt_user_interactions GROUP BY user_id) h
			LEFT JOIN `+schema+`.user_profiles p ON p.user_id = h.user_id
			WHERE p.interaction_count IS DISTINCT FROM h.n`).Scan(&off, &example)
		if err != nil {
			t.Fatal(err)
		}
		if off == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d users' profiles do not count their stored events (e.g. %s)", off, example)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ingest is a set of clients posting events to a node until stopped: some
// post batches of 20, others single events; every event has an id of its
// own, and the ids answered 202 "accepted" are kept.
type ingest struct {
	stopCh   chan struct{}
	wg       sync.WaitGroup
	seq      atomic.Int64
	inFlight atomic.Int64
	batched  atomic.Int64
	singles  atomic.Int64
	mu       sync.Mutex
	accepted []string
}

func startIngest(t *testing.T, base string, batchClients, singleClients int) *ingest {
	t.Helper()
	in := &ingest{stopCh: make(chan struct{})}
	for c := 0; c < batchClients+singleClients; c++ {
		size := 20
		if c >= batchClients {
			size = 1
		}
		in.wg.Go(func() { in.client(base, size) })
	}
	t.Cleanup(func() { in.stop() })
	return in
}

func (in *ingest) client(base string, size int) {
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-in.stopCh:
			return
		default:
		}
		ids := make([]string, size)
		evs := make([]map[string]any, size)
		for i := range evs {
			n := in.seq.Add(1)
			ids[i] = fmt.Sprintf("dur-%d", n)
			evs[i] = map[string]any{"event_id": ids[i], "user_id": fmt.Sprint("user_", n%200), "movie_id": fmt.Sprint("m", n%97), "type": "click"}
		}
		var body []byte
		if size == 1 {
			body, _ = json.Marshal(evs[0])
		} else {
			body, _ = json.Marshal(map[string]any{"events": evs})
		}
		in.inFlight.Add(1)
		r, err := client.Post(base+"/api/events", "application/json", bytes.NewReader(body))
		in.inFlight.Add(-1)
		if err != nil {
			time.Sleep(20 * time.Millisecond) // the node is down: try again soon
			continue
		}
		var out struct {
			Results []struct {
				EventID string `json:"event_id"`
				Status  string `json:"status"`
			} `json:"results"`
		}
		err = json.NewDecoder(r.Body).Decode(&out)
		r.Body.Close()
		if r.StatusCode != http.StatusAccepted || err != nil {
			continue
		}
		in.mu.Lock()
		for _, res := range out.Results {
			if res.Status == "accepted" {
				in.accepted = append(in.accepted, res.EventID)
				if size == 1 {
					in.singles.Add(1)
				} else {
					in.batched.Add(1)
				}
			}
		}
		in.mu.Unlock()
	}
}

// stop stops the clients (once).
func (in *ingest) stop() {
	select {
	case <-in.stopCh:
	default:
		close(in.stopCh)
	}
	in.wg.Wait()
}

func (in *ingest) acceptedIDs() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.accepted...)
}

// proc is one marquee process, logging to a file of the test's.
type proc struct {
	t      *testing.T
	base   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error
}

// startProc starts marquee serve with env and waits until it is ready.
func startProc(t *testing.T, env []string) *proc {
	t.Helper()
	var addr string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "MARQUEE_HTTP_ADDR="); ok {
			addr = v
		}
	}
	logFile, err := os.CreateTemp(t.TempDir(), "node-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, base: "http://" + addr, log: logFile.Name(), exited: make(chan struct{})}
	p.cmd = exec.Command(marqueeBin, "serve")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); logFile.Close(); close(p.exited) }()
	t.Cleanup(p.kill)
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(p.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("the node exited before it was ready (%v):\n%s", p.err, p.tail(40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not become ready:\n%s", p.tail(40))
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// term sends SIGTERM and waits up to within for a clean exit.
func (p *proc) term(within time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		return fmt.Errorf("no exit %v after SIGTERM", within)
	}
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
