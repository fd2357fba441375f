package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/marquee-recsys/marquee/loadgen"
)

// bench is `marquee bench`: the load generator. It drives a running node
// over HTTP with the serving, freshness and ingest scenarios (and times a
// training job with bench-train), and prints Markdown tables of the
// medians over -runs runs; -json writes every run.
func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the node")
	scenario := fs.String("scenario", "all", "serving, freshness, ingest, saturation, training, comma-separated, or all (all but saturation)")
	runs := fs.Int("runs", 3, "runs of each scenario (tables show medians)")
	jsonOut := fs.String("json", "", "write the full report (every run) as JSON to this file")
	note := fs.String("note", "", "describes the node in the report (embedded, PostgreSQL + Redis, …)")
	var headers headerFlags
	fs.Var(&headers, "header", `header sent with every request, "Name: value" (repeatable)`)
	apiKey := fs.String("api-key", "", "API key, sent as Authorization: Bearer KEY (a node with MARQUEE_API_KEYS needs one for events)")
	prefix := fs.String("user-prefix", "user_", "prefix of existing user ids (user_0, user_1, …)")
	first := fs.Int("first-user", 0, "first user number the scenarios use")

	duration := fs.Duration("duration", 10*time.Second, "serving: length of each run")
	n := fs.Int("n", 10, "serving, freshness: list length")
	cacheRate := fs.Float64("cache-rate", 5000, "serving: cache-tier requests/s (0: none)")
	cacheUsers := fs.Int("cache-users", 500, "serving: users of the cache stream")
	vectorRate := fs.Float64("vector-rate", 200, "serving: vector-tier requests/s, each after an event (0: none)")
	vectorUsers := fs.Int("vector-users", 500, "serving: users of the vector stream")
	batchRate := fs.Float64("batch-rate", 200, "serving: batch-tier requests/s, each after an event (0: none)")
	batchUsers := fs.Int("batch-users", 100, "serving: users of the batch stream (3× as many are tried)")
	popularRate := fs.Float64("popular-rate", 200, "serving: requests/s of new users (popular tier; 0: none)")
	popularUsers := fs.Int("popular-users", 200, "serving: new user ids of the popular stream")
	lead := fs.Duration("lead", 100*time.Millisecond, "serving: how long before a vector or batch request its event is posted")
	closed := fs.Bool("closed", false, "serving: closed loop (cache and popular streams, one after the other) instead of open loop")
	workers := fs.Int("workers", 16, "serving: closed-loop workers")
	inflight := fs.Int("max-inflight", 1024, "serving: most requests in flight per open-loop stream")

	samples := fs.Int("fresh-samples", 100, "freshness: events measured per run (one user each)")
	freshConc := fs.Int("fresh-concurrency", 4, "freshness: samples measured at once")
	freshFirst := fs.Int("fresh-first", -1, "freshness: first user number (-1: after the serving users)")

	ingestDur := fs.Duration("ingest-duration", 10*time.Second, "ingest: how long to post")
	ingestBatch := fs.Int("ingest-batch", 100, "ingest: events per request")
	ingestRate := fs.Float64("ingest-rate", 0, "ingest: events/s offered in open loop (0: closed loop, the maximum)")
	ingestWorkers := fs.Int("ingest-workers", 4, "ingest: concurrent posters in closed loop")
	ingestUsers := fs.Int("ingest-users", 400, "ingest: users the events are for")
	ingestFirst := fs.Int("ingest-first", -1, "ingest: first user number (-1: after the freshness users)")

	conns := fs.Int("connections", 32, "saturation: closed-loop connections (each a worker with its own connection)")
	warmup := fs.Duration("warmup", 5*time.Second, "saturation: unmeasured closed loop first (fills the caches)")
	usersFile := fs.String("users-file", "", "saturation: user ids, one per line, drawn at random (default: -cache-users users from -first-user)")
	runtimeURL := fs.String("runtime-url", "", "saturation: the node's /debug/runtime on its profiling listener (MARQUEE_PPROF_ADDR), e.g. http://127.0.0.1:6060/debug/runtime: adds its GC and scheduling figures")
	shedBackoff := fs.Duration("shed-backoff", 0, "saturation: after a 503 the worker waits this long before its next request, as a client honouring Retry-After does (0: at once)")
	pin := fs.String("pin", "", `run the generator on these CPUs only (taskset -c LIST, e.g. "1"): its share of the machine is then bounded and reported`)

	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator to this file")
	trainArgs := fs.String("train-args", "-interactions 1000000", "training: arguments of marquee bench-train")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pin != "" && os.Getenv(pinnedEnv) == "" {
		return repin(*pin)
	}
	if *apiKey != "" {
		if err := headers.Set("Authorization: Bearer " + *apiKey); err != nil {
			return err
		}
	}
	names := strings.Split(*scenario, ",")
	if *scenario == "all" {
		names = []string{loadgen.ScenarioServing, loadgen.ScenarioFreshness, loadgen.ScenarioIngest, "training"}
	}
	training := slices.Contains(names, "training")
	names = slices.DeleteFunc(names, func(s string) bool { return s == "training" })
	var scenarios []string
	if len(names) > 0 {
		var err error
		if scenarios, err = loadgen.ParseScenarios(strings.Join(names, ",")); err != nil {
			return err
		}
	}

	cfg := loadgen.Config{Scenarios: scenarios, Runs: *runs, Note: *note,
		Progress: func(s string) { fmt.Fprintln(os.Stderr, "bench:", s) }}
	users := func(first, count int) loadgen.Users {
		return loadgen.Users{Prefix: *prefix, First: first, Count: count}
	}
	cfg.Serving = loadgen.ServingConfig{
		Cache: loadgen.StreamConfig{Rate: *cacheRate, Users: *cacheUsers}, Vector: loadgen.StreamConfig{Rate: *vectorRate, Users: *vectorUsers},
		Batch: loadgen.StreamConfig{Rate: *batchRate, Users: *batchUsers}, Popular: loadgen.StreamConfig{Rate: *popularRate, Users: *popularUsers},
		Duration: *duration, N: *n, Lead: *lead, Closed: *closed, Workers: *workers, MaxInFlight: *inflight,
		Users: users(*first, 0), Seed: 1,
	}
	if *freshFirst < 0 {
		*freshFirst = *first + *cacheUsers + *vectorUsers + 3**batchUsers
	}
	cfg.Freshness = loadgen.FreshnessConfig{Users: users(*freshFirst, *samples), Samples: *samples, Concurrency: *freshConc, N: *n}
	if *ingestFirst < 0 {
		*ingestFirst = *freshFirst + *samples**runs
	}
	cfg.Ingest = loadgen.IngestConfig{Users: users(*ingestFirst, *ingestUsers), Duration: *ingestDur, Batch: *ingestBatch,
		Rate: *ingestRate, Workers: *ingestWorkers, Seed: 1}
	cfg.Saturation = loadgen.SaturationConfig{Connections: *conns, Duration: *duration, Warmup: *warmup, N: *n, Seed: 1,
		RuntimeURL: *runtimeURL, ShedBackoff: *shedBackoff}
	if slices.Contains(scenarios, loadgen.ScenarioSaturation) {
		if *usersFile != "" {
			ids, err := loadgen.ReadUsers(*usersFile)
			if err != nil {
				return fmt.Errorf("-users-file: %w", err)
			}
			cfg.Saturation.Users = ids
		} else {
			for i := range *cacheUsers {
				cfg.Saturation.Users = append(cfg.Saturation.Users, fmt.Sprint(*prefix, *first+i))
			}
		}
	}
	if *pin != "" {
		cfg.Note = strings.TrimSpace(cfg.Note + " generator pinned to CPUs " + *pin)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	if len(scenarios) > 0 {
		c := loadgen.NewClient(*base, http.Header(headers))
		defer c.Close()
		rep, err := loadgen.Run(ctx, c, *base, cfg)
		if rep != nil {
			if werr := rep.WriteMarkdown(os.Stdout); werr != nil && err == nil {
				err = werr
			}
			if *jsonOut != "" {
				if werr := writeJSONReport(*jsonOut, rep); werr != nil && err == nil {
					err = werr
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if training {
		fmt.Fprintln(os.Stderr, "bench: training (marquee bench-train "+*trainArgs+", in this process)")
		fmt.Println("\n### Training\n\n`marquee bench-train " + *trainArgs + "`:\n")
		return benchTrain(strings.Fields(*trainArgs))
	}
	return nil
}

// pinnedEnv marks a bench process that repin started under taskset.
const pinnedEnv = "MARQUEE_BENCH_PINNED"

// repin runs this same command again under `taskset -c cpus`, so that
// every thread of the generator runs on those CPUs only.
func repin(cpus string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command("taskset", append([]string{"-c", cpus, exe}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), pinnedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("-pin %s (taskset): %w", cpus, err)
	}
	return nil
}

func writeJSONReport(path string, rep *loadgen.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// headerFlags collects -header "Name: value" flags.
type headerFlags http.Header

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\", got %q", s)
	}
	if *h == nil {
		*h = headerFlags{}
	}
	http.Header(*h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}
