package main

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

// TestTuneGCLeavesWhatTheOperatorSet: GOGC and GOMEMLIMIT set in the
// environment are the runtime's, untouched; unset, the serving defaults
// apply, with a memory limit below the memory there is.
func TestTuneGCLeavesWhatTheOperatorSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}
	if did := tuneGC(func(k string) string { return env[k] }); did != "" {
		t.Fatalf("with both set, tuneGC did %q", did)
	}
	if gogc := debug.SetGCPercent(100); gogc != 100 {
		t.Fatalf("GOGC changed to %d", gogc)
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Fatalf("memory limit changed to %d", limit)
	}

	did := tuneGC(func(string) string { return "" })
	if gogc := debug.SetGCPercent(100); gogc != servingGOGC || !strings.Contains(did, "GOGC=400") {
		t.Fatalf("GOGC %d (%q), want %d", gogc, did, servingGOGC)
	}
	avail := availableMemory()
	if avail <= 0 {
		t.Skip("no memory size readable here")
	}
	if limit := debug.SetMemoryLimit(-1); limit <= 0 || limit >= avail || !strings.Contains(did, "GOMEMLIMIT=") {
		t.Fatalf("memory limit %d of %d available (%q)", limit, avail, did)
	}
}
