package main

import (
	"strings"
	"testing"
)

func TestBenchRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "-scenario", "serving,frobnicate"},
		{"bench", "-header", "no colon"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%s: accepted", strings.Join(args, " "))
		}
	}
}
