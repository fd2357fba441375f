//go:build !race

// The cluster tests run several real marquee processes that form a
// Proto.Actor cluster on loopback. They are kept out of the -race run:
// Proto.Actor's remote and cluster code has data races of its own (the
// disthash partition manager swaps its rendezvous table while lookups
// read it, the automanaged provider writes its fields from its monitor
// goroutine, the grain call options are a shared package-level default),
// and under the race detector a three-node cluster on two cores is too
// slow for the timing assertions anyway. Run them with
// `go test -count=1 -run Cluster ./cmd/marquee/`.

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/adapters/kafka"
)

// testCluster is n marquee processes sharing one PostgreSQL schema, one
// Redis prefix and one Kafka broker (kfake, in this process).
type testCluster struct {
	t      *testing.T
	db     *pgx.Conn
	schema string
	common []string
	nodes  []*testNode
}

type testNode struct {
	i                          int
	httpAddr, bind, automanage string
	env                        []string
	logPath                    string
	mu                         sync.Mutex
	cmd                        *exec.Cmd
	exited                     chan struct{}
	logFile                    *os.File
}

// portPicker hands out free ports, each held by a listener until release:
// ports picked one after another with each listener closed at once can
// come back twice (a node's automanage port once equalled its HTTP port,
// and the node could not start).
type portPicker struct{ held []net.Listener }

func (p *portPicker) pick(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	p.held = append(p.held, l)
	return l.Addr().(*net.TCPAddr).Port
}

// release frees every port picked, for the nodes to listen on.
func (p *portPicker) release() {
	for _, l := range p.held {
		l.Close()
	}
	p.held = nil
}

// newTestCluster prepares n nodes (not started) with the extra variables.
func newTestCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	dbURL := envOr("MARQUEE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	redisURL := envOr("MARQUEE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		unavailable(t, fmt.Sprintf("PostgreSQL unreachable (run deploy/local/postgres.sh): %v", err))
	}
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opt)
	if err := rc.Ping(ctx).Err(); err != nil {
		unavailable(t, fmt.Sprintf("Redis unreachable (run deploy/local/redis.sh): %v", err))
	}
	rc.Close()
	id := rand.Uint32()
	schema := fmt.Sprintf("marquee_cluster_%d", id)
	emb, err := kafka.StartEmbedded(kafka.WithEmbeddedTopics("cluster.events"), kafka.WithEmbeddedPartitions(6),
		kafka.WithEmbeddedMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, db: db, schema: schema}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			nd.kill()
		}
		emb.Close()
		_, _ = db.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		db.Close(context.Background())
		rc := goredis.NewClient(opt)
		defer rc.Close()
		iter := rc.Scan(context.Background(), 0, schema+":*", 1000).Iterator()
		for iter.Next(context.Background()) {
			rc.Del(context.Background(), iter.Val())
		}
	})
	// Logs outlive a failed test, for reading.
	logDir, err := os.MkdirTemp("", "marquee-cluster-logs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(logDir)
		}
	})
	var seeds []string
	var ports portPicker
	defer ports.release()
	for i := 0; i < n; i++ {
		nd := &testNode{
			i:          i,
			httpAddr:   fmt.Sprintf("127.0.0.1:%d", ports.pick(t, "127.0.0.1")),
			bind:       fmt.Sprintf("127.0.0.1:%d", ports.pick(t, "127.0.0.1")),
			automanage: strconv.Itoa(ports.pick(t, "0.0.0.0")),
			logPath:    filepath.Join(logDir, fmt.Sprintf("node%d.log", i)),
		}
		seeds = append(seeds, "127.0.0.1:"+nd.automanage)
		c.nodes = append(c.nodes, nd)
	}
	c.common = append([]string{
		"MARQUEE_DATABASE_URL=" + dbURL, "MARQUEE_DATABASE_SCHEMA=" + schema,
		"MARQUEE_REDIS_URL=" + redisURL, "MARQUEE_REDIS_PREFIX=" + schema,
		"MARQUEE_KAFKA_BROKERS=" + strings.Join(emb.Addrs(), ","), "MARQUEE_KAFKA_TOPIC=cluster.events",
		"MARQUEE_KAFKA_SASL_MECHANISM=" + emb.Security().SASLMechanism, "MARQUEE_KAFKA_SASL_USERNAME=" + emb.Security().SASLUser,
		"MARQUEE_KAFKA_SASL_PASSWORD=" + emb.Security().SASLPassword,
		"MARQUEE_KAFKA_GROUP=" + schema, "MARQUEE_KAFKA_SESSION_TIMEOUT=6s",
		"MARQUEE_CLUSTER_PROVIDER=automanaged", "MARQUEE_CLUSTER_NAME=" + schema,
		"MARQUEE_CLUSTER_SEEDS=" + strings.Join(seeds, ","),
		"MARQUEE_INSECURE_DEV=true", "MARQUEE_RATE_LIMIT=off", "MARQUEE_ACCEPT_UNKNOWN_MOVIES=true",
		"MARQUEE_DEMO=false", "MARQUEE_TRAIN_TUNE=false", "MARQUEE_TRAIN_ITERATIONS=3", "MARQUEE_TRAIN_FACTORS=8",
		"MARQUEE_ARCHIVE_EVERY=off", "MARQUEE_SHUTDOWN_TIMEOUT=20s",
		// Two cores run three nodes, PostgreSQL, Redis and the broker: give
		// each tier more than the 250ms default before the walk moves on.
		"MARQUEE_TIER_TIMEOUT=1s",
	}, extra...)
	for _, nd := range c.nodes {
		nd.env = append(append(os.Environ(), c.common...), "MARQUEE_HTTP_ADDR="+nd.httpAddr,
			"MARQUEE_CLUSTER_BIND="+nd.bind, "MARQUEE_CLUSTER_AUTOMANAGE_PORT="+nd.automanage)
	}
	return c
}

func unavailable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// startAll starts node 0 first (it runs the migrations), then the others
// together, and waits until every one is ready.
func (c *testCluster) startAll() {
	c.t.Helper()
	c.start(0)
	c.waitReady(0)
	for _, nd := range c.nodes[1:] {
		c.start(nd.i)
	}
	for _, nd := range c.nodes[1:] {
		c.waitReady(nd.i)
	}
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	f, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	fmt.Fprintf(f, "=== start node %d at %s\n", i, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(marqueeBin, "serve")
	cmd.Env = nd.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(exited) }()
	nd.mu.Lock()
	nd.cmd, nd.exited, nd.logFile = cmd, exited, f
	nd.mu.Unlock()
}

func (c *testCluster) waitReady(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := http.Get(nd.base() + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-nd.exited:
			c.t.Fatalf("node %d exited during start:\n%s", i, nd.tail(60))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d not ready in 60s:\n%s", i, nd.tail(60))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (nd *testNode) base() string { return "http://" + nd.httpAddr }

// kill sends SIGKILL and waits for the process to be gone.
func (nd *testNode) kill() {
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// stop sends SIGTERM and waits for a graceful exit.
func (nd *testNode) stop(t *testing.T) {
	t.Helper()
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if !cmd.ProcessState.Success() {
			t.Errorf("node %d exited with %v after SIGTERM:\n%s", nd.i, cmd.ProcessState, nd.tail(40))
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("node %d did not exit 45s after SIGTERM:\n%s", nd.i, nd.tail(60))
	}
}

// cpuSeconds is the process's user+system CPU time so far (Linux).
func (nd *testNode) cpuSeconds() float64 {
	nd.mu.Lock()
	pid := nd.cmd.Process.Pid
	nd.mu.Unlock()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func (nd *testNode) logs() string {
	b, _ := os.ReadFile(nd.logPath)
	return string(b)
}

func (nd *testNode) tail(n int) string {
	lines := strings.Split(nd.logs(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var dueRe = regexp.MustCompile(`msg="scheduled training" due=(\S+)`)

// scheduledRuns counts, across every node's logs, the scheduled training
// runs by due time.
func (c *testCluster) scheduledRuns() map[string]int {
	runs := map[string]int{}
	for _, nd := range c.nodes {
		sc := bufio.NewScanner(strings.NewReader(nd.logs()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := dueRe.FindStringSubmatch(sc.Text()); m != nil {
				runs[m[1]]++
			}
		}
	}
	return runs
}

// storedCount is how many of ids are in the hot table, and how many rows
// they have (more rows than ids would be a duplicate).
func (c *testCluster) storedCount(ids []string) (distinct, rows int) {
	c.t.Helper()
	err := c.db.QueryRow(context.Background(),
		"SELECT count(DISTINCT event_id), count(*) FROM "+c.schema+".rt_user_interactions WHERE event_id = ANY($1)", ids).Scan(&distinct, &rows)
	if err != nil {
		c.t.Fatal(err)
	}
	return distinct, rows
}

// waitStored waits until every id is stored (the killed node's partitions
// move after the Kafka session timeout).
func (c *testCluster) waitStored(ids []string, within time.Duration) (distinct, rows int) {
	deadline := time.Now().Add(within)
	for {
		distinct, rows = c.storedCount(ids)
		if distinct == len(ids) || time.Now().After(deadline) {
			return distinct, rows
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func dumpLogs(t *testing.T, c *testCluster) {
	if !t.Failed() {
		return
	}
	var b bytes.Buffer
	for _, nd := range c.nodes {
		fmt.Fprintf(&b, "--- node %d (%s) ---\n%s\n", nd.i, nd.logPath, nd.tail(40))
	}
	t.Log(b.String())
}

// singletonHost is the node whose logs say it runs the singleton now (the
// last such line is "running here" rather than "stopped here"), or -1;
// dead nodes (killed, so they never logged the stop) are skipped.
func (c *testCluster) singletonHost(name string, dead ...int) int {
	for _, nd := range c.nodes {
		if slices.Contains(dead, nd.i) {
			continue
		}
		state := ""
		for _, line := range strings.Split(nd.logs(), "\n") {
			switch {
			case strings.HasPrefix(line, "=== start"):
				state = ""
			case !strings.Contains(line, "singleton="+name):
			case strings.Contains(line, `msg="cluster singleton running here"`):
				state = "running"
			case strings.Contains(line, `msg="cluster singleton stopped here"`):
				state = ""
			}
		}
		if state == "running" {
			return nd.i
		}
	}
	return -1
}
