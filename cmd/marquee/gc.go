package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// servingGOGC is the GC target of a serving node unless GOGC is set. At
// the default of 100 the node's live heap (tens of MB on MovieLens-100K)
// is collected several times a second under load: 18-24% of its CPU, and
// stop-the-world pauses of 5-17 ms on a saturated 2-core machine, where
// stopping waits for threads the OS has descheduled. At 400 the GC takes
// about 5% and the tails shrink (BENCHMARKS.md "Tail latency at
// saturation"), for a heap up to 5× the live one, which the memory
// limit below bounds.
const servingGOGC = 400

// memoryLimitShare is the share of the memory available to the process
// (its cgroup's limit, or the machine's memory) that becomes the Go
// memory limit unless GOMEMLIMIT is set: the GC works harder as the heap
// nears it, so that the GOGC above never grows the heap into an OOM kill.
const memoryLimitShare = 0.75

// tuneGC sets the serving node's GC target and soft memory limit where
// GOGC and GOMEMLIMIT leave them to the runtime, and describes what it
// set (for the start-up log).
func tuneGC(getenv func(string) string) string {
	var did []string
	if getenv("GOGC") == "" {
		debug.SetGCPercent(servingGOGC)
		did = append(did, fmt.Sprintf("GOGC=%d", servingGOGC))
	}
	if getenv("GOMEMLIMIT") == "" {
		if avail := availableMemory(); avail > 0 {
			limit := int64(float64(avail) * memoryLimitShare)
			debug.SetMemoryLimit(limit)
			did = append(did, fmt.Sprintf("GOMEMLIMIT=%dMiB", limit>>20))
		}
	}
	return strings.Join(did, " ")
}

// availableMemory is the cgroup's memory limit when there is one (v2,
// then v1), else the machine's memory; 0 when neither can be read.
func availableMemory() int64 {
	machine := memTotal()
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 { // "max": no limit
			continue
		}
		if machine > 0 && n >= machine { // v1's "no limit" is a huge number
			break
		}
		return n
	}
	return machine
}

// memTotal is MemTotal of /proc/meminfo in bytes (0 if unreadable).
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 && kb < math.MaxInt64>>10 {
					return kb << 10
				}
			}
		}
	}
	return 0
}
