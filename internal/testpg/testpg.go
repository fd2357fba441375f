// Package testpg runs a PostgreSQL 15 server of a test's own, on a free
// loopback port, that the test may stop and start again (a crash or a
// network cut, as Marquee sees it) while the shared server stays up for
// the other packages' tests.
package testpg

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bin is where Debian's PostgreSQL 15 keeps initdb and pg_ctl.
const bin = "/usr/lib/postgresql/15/bin"

// Server is a PostgreSQL server in a temporary directory. PostgreSQL
// refuses to run as root, so it runs as the postgres user; pgvector
// comes from the system-wide install (deploy/local/postgres.sh).
type Server struct {
	t    testing.TB
	dir  string
	port int
}

// Start initializes and starts a server, stopped and removed when the test
// ends. Without the PostgreSQL 15 binaries the test is skipped, or fails
// under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL 15 binaries are required under CI=true: %v", err)
		}
		t.Skip("no PostgreSQL 15 binaries; run deploy/local/postgres.sh")
	}
	dir, err := os.MkdirTemp("", "marquee-pg-")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, dir: dir, port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	s.run("chown", "-R", "postgres:postgres", dir)
	s.run("runuser", "-u", "postgres", "--", filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "--no-sync")
	t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"),
			"-m", "immediate", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	s.Start()
	return s
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// URL is the connection URL of the server's postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Start starts the server (again) and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.run("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"),
		"-l", filepath.Join(s.dir, "log"), "-w", "-o",
		fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", s.port, s.dir), "start")
}

// Stop stops the server at once, as a crash or a network cut would look
// to its clients.
func (s *Server) Stop() {
	s.t.Helper()
	s.run("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"),
		"-m", "immediate", "stop")
}
