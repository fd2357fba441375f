package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/marquee-recsys/marquee/telemetry"
)

// ScenarioSaturation is the closed-loop saturation scenario.
const ScenarioSaturation = "saturation"

// SaturationConfig is the saturation scenario: Connections workers, each
// sending its next request for a user drawn at random from Users as soon
// as its last one is answered (a closed loop, as many in flight as there
// are connections), for Duration after a Warmup that is not measured (it
// fills the caches). It is how a node behaves with its cores saturated.
type SaturationConfig struct {
	Connections int           `json:"connections"`
	Duration    time.Duration `json:"duration"`
	Warmup      time.Duration `json:"warmup"`
	N           int           `json:"n"`
	// Users are the user ids requests are drawn from (ReadUsers).
	Users []string `json:"-"`
	Seed  uint64   `json:"seed"`
	// RuntimeURL, when set, is the node's /debug/runtime (its profiling
	// listener): the result then has the node's GC and scheduler figures.
	RuntimeURL string `json:"runtime_url,omitempty"`
	// ShedBackoff is how long a worker waits after a 503 before its next
	// request (a client honouring Retry-After); 0: at once, the harshest
	// client.
	ShedBackoff time.Duration `json:"shed_backoff,omitempty"`
}

// SaturationResult is one run: the latency of the answered requests, how
// many each tier answered, those the node shed with 503 (admission
// control; not in the latencies), and the CPU the generator and the node
// used, in cores over the measured time.
type SaturationResult struct {
	Latency      Stats            `json:"latency"`
	ByTier       map[string]int64 `json:"by_tier"`
	Shed         int64            `json:"shed"`
	Errors       int64            `json:"errors"`
	GeneratorCPU float64          `json:"generator_cores"`
	NodeCPU      float64          `json:"node_cores,omitempty"`
	Runtime      *NodeRuntime     `json:"node_runtime,omitempty"`
}

// ReadUsers reads user ids, one per line (blank lines and # comments
// skipped).
func ReadUsers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no user", path)
	}
	return out, nil
}

// Saturation runs the scenario against the node c talks to.
func Saturation(ctx context.Context, c *Client, cfg SaturationConfig) (SaturationResult, error) {
	if cfg.Connections <= 0 || cfg.Duration <= 0 || len(cfg.Users) == 0 {
		return SaturationResult{}, errors.New("loadgen: saturation needs connections, a duration and users")
	}
	if cfg.N <= 0 {
		cfg.N = 10
	}
	var seq atomic.Uint64
	pick := func() string {
		// One generator per request: no lock between the workers.
		r := rand.New(rand.NewPCG(cfg.Seed, seq.Add(1)))
		return cfg.Users[r.IntN(len(cfg.Users))]
	}
	var shed, failed atomic.Int64
	var mu sync.Mutex
	byTier := map[string]int64{}
	op := func(ctx context.Context, _ int) (string, error) {
		tier, err := c.Tier(ctx, pick(), cfg.N)
		var se *StatusError
		switch {
		case errors.As(err, &se) && se.Status == http.StatusServiceUnavailable:
			shed.Add(1)
			if cfg.ShedBackoff > 0 {
				t := time.NewTimer(cfg.ShedBackoff)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
				}
			}
			return "", nil // not an answer: counted apart, not in the latencies
		case err != nil:
			failed.Add(1)
			return "all", err
		}
		mu.Lock()
		byTier[tier]++
		mu.Unlock()
		return "all", nil
	}
	if cfg.Warmup > 0 {
		if _, err := (ClosedLoop{Workers: cfg.Connections, Duration: cfg.Warmup}).Run(ctx, NewRecorder(), op); err != nil {
			return SaturationResult{}, err
		}
		shed.Store(0)
		failed.Store(0)
		mu.Lock()
		clear(byTier)
		mu.Unlock()
	}
	nodeBefore, nodeErr := c.Metrics(ctx, metricProcessCPU)
	var rtBefore telemetry.RuntimeReading
	if cfg.RuntimeURL != "" {
		var err error
		if rtBefore, err = readRuntime(ctx, c.http, cfg.RuntimeURL); err != nil {
			return SaturationResult{}, fmt.Errorf("loadgen: node runtime: %w", err)
		}
	}
	cpuBefore := processCPU()
	rec := NewRecorder()
	r, err := ClosedLoop{Workers: cfg.Connections, Duration: cfg.Duration}.Run(ctx, rec, op)
	res := SaturationResult{Shed: shed.Load(), Errors: failed.Load(), ByTier: byTier}
	if r.Elapsed > 0 {
		res.GeneratorCPU = (processCPU() - cpuBefore).Seconds() / r.Elapsed.Seconds()
		if nodeAfter, err := c.Metrics(ctx, metricProcessCPU); err == nil && nodeErr == nil {
			res.NodeCPU = (nodeAfter[metricProcessCPU] - nodeBefore[metricProcessCPU]) / r.Elapsed.Seconds()
		}
		if cfg.RuntimeURL != "" {
			rtAfter, rerr := readRuntime(ctx, c.http, cfg.RuntimeURL)
			if rerr != nil {
				return res, fmt.Errorf("loadgen: node runtime: %w", rerr)
			}
			nr := nodeRuntime(rtBefore, rtAfter, res.NodeCPU*r.Elapsed.Seconds())
			res.Runtime = &nr
		}
	}
	for _, st := range rec.All(r.Elapsed) {
		if st.Label == "all" {
			res.Latency = st
		}
	}
	return res, err
}

// metricProcessCPU is the node's own CPU time (the Prometheus process
// collector).
const metricProcessCPU = "process_cpu_seconds_total"

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
