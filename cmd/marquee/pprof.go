package main

import (
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux, which only this listener serves
	"time"

	"github.com/marquee-recsys/marquee/telemetry"
)

// servePprof serves the runtime profiles and metrics on addr
// (MARQUEE_PPROF_ADDR), on a listener of their own: the API's mux never
// routes to them. It returns the function that closes it.
func servePprof(addr string, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/", http.DefaultServeMux)
	mux.Handle("/debug/runtime", telemetry.RuntimeHandler()) // what marquee bench -runtime-url reads
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Warn("profiling endpoints are served (MARQUEE_PPROF_ADDR); keep them off public networks",
		"pprof", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}
