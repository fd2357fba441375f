// Command marquee is the Marquee server and its tools.
//
//	marquee [serve]           run a node (configured by MARQUEE_* variables)
//	marquee openapi [-o FILE] write the OpenAPI contract
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/marquee-recsys/marquee/bootstrap"
	"github.com/marquee-recsys/marquee/openapi"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "marquee:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args)
	case "openapi":
		return writeSpec(args)
	case "help":
		fmt.Println("usage: marquee [serve [-addr host:port]] | marquee openapi [-o file]")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve or openapi)", cmd)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "HTTP listen address (overrides MARQUEE_HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := bootstrap.LoadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := bootstrap.NewLogger(cfg)
	app, cleanup, err := bootstrap.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	logger.Info("Marquee is ready", "api", app.URL()+"/api", "docs", app.URL()+"/docs",
		"spec", app.URL()+"/openapi.yaml", "metrics", app.URL()+"/metrics", "embedded", cfg.Embedded())
	fmt.Fprintf(os.Stderr, "\n  Marquee is running.\n    docs     %s/docs\n    try      curl '%s/api/recommendations?user_id=user_42&n=5'\n    metrics  %s/metrics\n  Ctrl-C stops it.\n\n",
		app.URL(), app.URL(), app.URL())
	err = app.Run(ctx)
	logger.Info("shutting down")
	return err
}

func writeSpec(args []string) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	out := fs.String("o", openapi.SpecPath, "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := openapi.Spec()
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}
