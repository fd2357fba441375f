package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// marqueeBin is the binary the process tests run (built once by TestMain,
// without the race detector: the processes are the subject, not this
// test binary).
var marqueeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "marquee-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	marqueeBin = filepath.Join(dir, "marquee")
	if out, err := exec.Command("go", "build", "-o", marqueeBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build marquee: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// envOr returns the variable k, or def when it is empty.
func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
