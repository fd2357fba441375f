package loadgen

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Scenario names.
const (
	ScenarioServing   = "serving"
	ScenarioFreshness = "freshness"
	ScenarioIngest    = "ingest"
)

// Config is a whole benchmark: which scenarios, how many runs of each.
type Config struct {
	Scenarios []string
	// Runs of each scenario; tables show the median of each figure.
	Runs       int
	Serving    ServingConfig
	Freshness  FreshnessConfig
	Ingest     IngestConfig
	Saturation SaturationConfig
	// Note describes the node (embedded, real services, …) in the report.
	Note string
	// Progress, if set, is told what is happening.
	Progress func(string)
}

// Report is everything a benchmark measured: every run, and the medians.
type Report struct {
	Machine    Machine           `json:"machine"`
	URL        string            `json:"url"`
	Note       string            `json:"note,omitempty"`
	Started    time.Time         `json:"started"`
	Runs       int               `json:"runs"`
	Serving    *ServingReport    `json:"serving,omitempty"`
	Freshness  *FreshnessReport  `json:"freshness,omitempty"`
	Ingest     *IngestReport     `json:"ingest,omitempty"`
	Saturation *SaturationReport `json:"saturation,omitempty"`
}

// SaturationReport holds the saturation runs and their medians.
type SaturationReport struct {
	Config SaturationConfig   `json:"config"`
	Runs   []SaturationResult `json:"runs"`
	// Median is every figure's median over the runs.
	Median SaturationResult `json:"median"`
}

// ServingReport holds the serving runs and, per stream, their medians.
type ServingReport struct {
	Config ServingConfig   `json:"config"`
	Runs   []ServingResult `json:"runs"`
	Median []StreamResult  `json:"median"`
}

// FreshnessReport holds the freshness runs and their medians.
type FreshnessReport struct {
	Config FreshnessConfig   `json:"config"`
	Runs   []FreshnessResult `json:"runs"`
	Median []Stats           `json:"median"`
}

// IngestReport holds the ingest runs and the median rate.
type IngestReport struct {
	Config IngestConfig   `json:"config"`
	Runs   []IngestResult `json:"runs"`
	// MedianPerSecond is the median end-to-end rate; ZeroLoss holds when
	// every run lost nothing.
	MedianPerSecond float64 `json:"median_events_per_second"`
	ZeroLoss        bool    `json:"zero_loss"`
}

// Machine describes where the load generator ran.
type Machine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	// Loopback: the node is on this machine, so the two share its CPUs.
	Loopback bool `json:"loopback"`
}

// Run runs the configured scenarios against the node c talks to.
func Run(ctx context.Context, c *Client, base string, cfg Config) (*Report, error) {
	if cfg.Runs <= 0 {
		cfg.Runs = 1
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	rep := &Report{Machine: describeMachine(base), URL: base, Note: cfg.Note, Started: time.Now().UTC(), Runs: cfg.Runs}
	runID := fmt.Sprintf("%x", time.Now().UnixNano())
	for _, sc := range cfg.Scenarios {
		for run := 1; run <= cfg.Runs; run++ {
			id := fmt.Sprintf("%s-%d", runID, run)
			progress(fmt.Sprintf("%s: run %d of %d", sc, run, cfg.Runs))
			if err := Quiesce(ctx, c, time.Minute); err != nil {
				return rep, err
			}
			switch sc {
			case ScenarioServing:
				if rep.Serving == nil {
					rep.Serving = &ServingReport{Config: cfg.Serving}
				}
				r, err := Serving(ctx, c, cfg.Serving, id)
				rep.Serving.Runs = append(rep.Serving.Runs, r)
				if err != nil {
					return rep, fmt.Errorf("serving: %w", err)
				}
			case ScenarioFreshness:
				if rep.Freshness == nil {
					rep.Freshness = &FreshnessReport{Config: cfg.Freshness}
				}
				fc := cfg.Freshness
				// A fresh range of users each run: a sample changes its user.
				fc.Users.First += (run - 1) * fc.Samples
				r, err := Freshness(ctx, c, fc, id)
				rep.Freshness.Runs = append(rep.Freshness.Runs, r)
				if err != nil {
					return rep, fmt.Errorf("freshness: %w", err)
				}
			case ScenarioIngest:
				if rep.Ingest == nil {
					rep.Ingest = &IngestReport{Config: cfg.Ingest}
				}
				ic := cfg.Ingest
				ic.Seed += uint64(run)
				r, err := Ingest(ctx, c, ic, id)
				rep.Ingest.Runs = append(rep.Ingest.Runs, r)
				if err != nil {
					return rep, fmt.Errorf("ingest: %w", err)
				}
			case ScenarioSaturation:
				if rep.Saturation == nil {
					rep.Saturation = &SaturationReport{Config: cfg.Saturation}
				}
				sc := cfg.Saturation
				sc.Seed += uint64(run)
				r, err := Saturation(ctx, c, sc)
				rep.Saturation.Runs = append(rep.Saturation.Runs, r)
				if err != nil {
					return rep, fmt.Errorf("saturation: %w", err)
				}
			default:
				return rep, fmt.Errorf("unknown scenario %q", sc)
			}
		}
	}
	rep.summarize()
	return rep, nil
}

// summarize fills in the medians.
func (r *Report) summarize() {
	if s := r.Serving; s != nil {
		s.Median = medianStreams(s.Runs)
	}
	if f := r.Freshness; f != nil {
		var runs [][]Stats
		for _, run := range f.Runs {
			runs = append(runs, run.Latency)
		}
		f.Median = MedianStats(runs)
	}
	if in := r.Ingest; in != nil {
		var rates []float64
		in.ZeroLoss = len(in.Runs) > 0
		for _, run := range in.Runs {
			rates = append(rates, run.PerSecond)
			in.ZeroLoss = in.ZeroLoss && run.ZeroLoss
		}
		in.MedianPerSecond = median(rates)
	}
	if sa := r.Saturation; sa != nil {
		var lat [][]Stats
		var shed, errs, gen, node []float64
		for _, run := range sa.Runs {
			lat = append(lat, []Stats{run.Latency})
			shed, errs = append(shed, float64(run.Shed)), append(errs, float64(run.Errors))
			gen, node = append(gen, run.GeneratorCPU), append(node, run.NodeCPU)
		}
		if m := MedianStats(lat); len(m) > 0 {
			sa.Median.Latency = m[0]
		}
		sa.Median.Shed, sa.Median.Errors = int64(median(shed)), int64(median(errs))
		sa.Median.GeneratorCPU, sa.Median.NodeCPU = median(gen), median(node)
	}
}

// medianStreams combines each stream's results across runs.
func medianStreams(runs []ServingResult) []StreamResult {
	var order []string
	byStream := map[string][]StreamResult{}
	for _, run := range runs {
		for _, s := range run.Streams {
			if _, ok := byStream[s.Stream]; !ok {
				order = append(order, s.Stream)
			}
			byStream[s.Stream] = append(byStream[s.Stream], s)
		}
	}
	var out []StreamResult
	for _, name := range order {
		ss := byStream[name]
		m := ss[0]
		var tiers, service, lags [][]Stats
		var events, eventErrs []float64
		for _, s := range ss {
			tiers, service, lags = append(tiers, s.Tiers), append(service, s.Service), append(lags, []Stats{s.Lag})
			events, eventErrs = append(events, float64(s.Events)), append(eventErrs, float64(s.EventErrors))
		}
		m.Tiers, m.Service = MedianStats(tiers), MedianStats(service)
		if l := MedianStats(lags); len(l) > 0 {
			m.Lag = l[0]
		}
		m.Events, m.EventErrors = int64(median(events)), int64(median(eventErrs))
		out = append(out, m)
	}
	return out
}

// Quiesce waits until the node has applied every event it accepted, so
// that one scenario's events do not spill into the next one's counts.
func Quiesce(ctx context.Context, c *Client, timeout time.Duration) error {
	return waitFor(ctx, timeout, 10*time.Millisecond, "the node's accepted events applied", func(ctx context.Context) (bool, error) {
		m, err := c.Metrics(ctx, metricApplied, metricAccepted, metricDuplicates)
		return err == nil && m[metricApplied]+m[metricDuplicates] >= m[metricAccepted], err
	})
}

func describeMachine(base string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if u, err := url.Parse(base); err == nil {
		h := u.Hostname()
		m.Loopback = h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
	}
	return m
}

// ParseScenarios reads a comma-separated list ("all" for serving,
// freshness and ingest; saturation only when named).
func ParseScenarios(s string) ([]string, error) {
	all := []string{ScenarioServing, ScenarioFreshness, ScenarioIngest}
	if s == "" || s == "all" {
		return all, nil
	}
	all = append(all, ScenarioSaturation)
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(all, p) {
			return nil, fmt.Errorf("unknown scenario %q (want %s or all)", p, strings.Join(all, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}
