package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	simulation "github.com/marquee-recsys/marquee/simulate"
)

// simulate is `marquee simulate`: simulated users with hidden tastes
// request recommendations from a running node and click on them, until
// -duration has passed or Ctrl-C; then it prints what it observed.
func simulate(args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the node")
	users := fs.Int("users", 500, "returning users (user_0 …, the embedded demo's users)")
	newUsers := fs.Float64("new", 0.02, "probability that a request comes from a new user")
	duration := fs.Duration("duration", time.Minute, "how long to run (0: until Ctrl-C)")
	rate := fs.Float64("rate", 50, "recommendation requests per second")
	seed := fs.Int64("seed", 1, "seed of tastes and choices (1: the demo's tastes)")
	n := fs.Int("n", 10, "length of each recommendation list")
	quiet := fs.Bool("q", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := simulation.Config{URL: *url, Users: *users, NewUsers: *newUsers, Duration: *duration, Rate: *rate,
		Seed: *seed, ListSize: *n}
	if !*quiet {
		cfg.Progress = func(s simulation.Summary) {
			fmt.Fprintf(os.Stderr, "%6.0fs  %d lists, CTR %.1f%%, %d failures\n", s.Elapsed.Seconds(), s.Lists, 100*s.CTR(), s.Failures)
		}
	}
	sum, err := simulation.Run(ctx, cfg)
	if sum.Lists > 0 || sum.Failures > 0 {
		fmt.Print(sum)
	}
	return err
}
