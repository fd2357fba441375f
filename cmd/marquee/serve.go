package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/marquee-recsys/marquee/bootstrap"
)

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "HTTP listen address (overrides MARQUEE_HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := bootstrap.NewLogger(cfg)
	if gc := tuneGC(os.Getenv); gc != "" {
		logger.Info("garbage collector tuned for serving (set GOGC or GOMEMLIMIT to choose otherwise)", "set", gc)
	}
	if cfg.PprofAddr != "" {
		closePprof, err := servePprof(cfg.PprofAddr, logger)
		if err != nil {
			return fmt.Errorf("MARQUEE_PPROF_ADDR: %w", err)
		}
		defer closePprof()
	}
	app, cleanup, err := bootstrap.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	logger.Info("Marquee is ready", "api", app.URL()+"/api", "docs", app.URL()+"/docs",
		"spec", app.URL()+"/openapi.yaml", "metrics", app.URL()+"/metrics", "embedded_kafka", cfg.Embedded())
	access, try := fmt.Sprintf("%d API keys required", len(cfg.APIKeys)), "-H 'Authorization: Bearer <key>' "
	if cfg.Open() {
		access, try = "OPEN to anyone who can connect: no API keys (MARQUEE_API_KEYS; see README, Security)", ""
	}
	cluster := "no (a single node)"
	if cc := cfg.Cluster; cc.Clustered() {
		cluster = fmt.Sprintf("%s member of %q, advertised as %s", cc.Provider, cc.Name, cc.Advertise)
		logger.Info("cluster member", "provider", cc.Provider, "cluster", cc.Name, "bind", cc.Bind, "advertise", cc.Advertise)
	}
	fmt.Fprintf(os.Stderr, "\n  Marquee is running.\n    docs     %s/docs\n    try      curl %s'%s/api/recommendations?user_id=user_42&n=5'\n    metrics  %s/metrics\n    access   %s\n    events   %s\n    cluster  %s\n  Ctrl-C stops it.\n\n",
		app.URL(), try, app.URL(), app.URL(), access, cfg.EventDurability(), cluster)
	err = app.Run(ctx)
	logger.Info("shutting down")
	return err
}

func loadConfig() (bootstrap.Config, error) {
	cfg, err := bootstrap.LoadConfig(os.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}
