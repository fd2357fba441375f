package redis_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/redis"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// server is a redis-server this test owns, on a loopback port, without
// persistence.
type server struct {
	port int
	cmd  *exec.Cmd
}

func startServer(t *testing.T, port int) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is required under CI=true: %v", err)
		}
		t.Skip("no redis-server binary; run deploy/local/redis.sh")
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--logfile", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{port: port, cmd: cmd}
	t.Cleanup(s.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", s.addr(), 100*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not start: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// kill stops the server at once, as a crash would (idempotent).
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOutage runs the cache with its default timeouts against a Redis
// that crashes, comes back, hangs and recovers: every failure must wrap
// ports.ErrUnavailable and come quickly, and the cache must recover by
// itself.
func TestOutage(t *testing.T) {
	parent := t // owns the servers: a subtest's cleanup would stop them early
	srv := startServer(t, freePort(t))
	c, err := redis.New("redis://" + srv.addr() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, user := ctxT(t), domain.UserID("user_1")

	works := func(t *testing.T) {
		t.Helper()
		_, gen, err := c.Get(ctx, user)
		if !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
		mustDo(t, c.Put(ctx, user, gen, sampleList("x", 3), time.Minute))
		if _, _, err := c.Get(ctx, user); err != nil {
			t.Fatalf("Get after Put: %v", err)
		}
		mustDo(t, c.Invalidate(ctx, user))
	}
	// allFail calls every method rounds times, each of which must fail
	// with ErrUnavailable within limit.
	allFail := func(t *testing.T, rounds int, limit time.Duration) {
		t.Helper()
		ops := []struct {
			name string
			call func() error
		}{
			{"Get", func() error { _, _, err := c.Get(ctx, user); return err }},
			{"Put", func() error { return c.Put(ctx, user, 1, sampleList("x", 3), time.Minute) }},
			{"Invalidate", func() error { return c.Invalidate(ctx, user) }},
			{"Ping", func() error { return c.Ping(ctx) }},
		}
		var slowest time.Duration
		for range rounds {
			for _, op := range ops {
				start := time.Now()
				err := op.call()
				took := time.Since(start)
				slowest = max(slowest, took)
				if !errors.Is(err, ports.ErrUnavailable) {
					t.Fatalf("%s: err = %v, want ErrUnavailable", op.name, err)
				}
				if took > limit {
					t.Fatalf("%s took %v to fail, want under %v", op.name, took, limit)
				}
			}
		}
		t.Logf("slowest failure: %v", slowest)
	}
	recovers := func(t *testing.T) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, _, err := c.Get(ctx, user)
			if err == nil || errors.Is(err, ports.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cache did not recover within 10s: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		works(t)
	}

	works(t)

	t.Run("crash", func(t *testing.T) {
		srv.kill()
		// More rounds than pooled connections: covers dead pooled
		// connections, refused dials and go-redis's fail-fast mode.
		allFail(t, 30, 2*time.Second)
	})
	t.Run("restart on the same port", func(t *testing.T) {
		srv = startServer(parent, srv.port)
		recovers(t)
	})
	t.Run("hang", func(t *testing.T) {
		// A stopped process keeps its socket: connections are accepted by
		// the kernel but nothing answers, so only timeouts end the calls.
		mustDo(t, srv.cmd.Process.Signal(syscall.SIGSTOP))
		resumed := false
		resume := func() {
			if !resumed {
				resumed = true
				_ = srv.cmd.Process.Signal(syscall.SIGCONT)
			}
		}
		t.Cleanup(resume)
		allFail(t, 3, 2*time.Second)
		resume()
		recovers(t)
	})
	t.Run("deadline of the caller", func(t *testing.T) {
		mustDo(t, srv.cmd.Process.Signal(syscall.SIGSTOP))
		defer func() { _ = srv.cmd.Process.Signal(syscall.SIGCONT) }()
		slow, err := redis.New("redis://"+srv.addr()+"/0", redis.WithReadTimeout(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err = slow.Get(tctx, user)
		if took := time.Since(start); !errors.Is(err, ports.ErrUnavailable) || took > 2*time.Second {
			t.Fatalf("Get with a 100ms deadline against a hung Redis: err = %v after %v", err, took)
		}
	})
}
