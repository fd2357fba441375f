//go:build !unix

package als

import "time"

// cpuTime is not measured here; benchmarks then report 0 CPU seconds.
func cpuTime() time.Duration { return 0 }
