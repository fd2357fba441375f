// Package loadgen is Marquee's load generator: it drives a running node
// over HTTP and measures what a client sees.
//
// Two ways of offering load:
//
//   - open loop (OpenLoop): requests are due at a fixed rate, whatever the
//     server does, and each latency is measured from the time its request
//     was due, not from when it was finally sent. A server that stalls
//     therefore shows its stall in every request that was due meanwhile,
//     instead of hiding it by slowing the client down (the "coordinated
//     omission" of closed-loop tools);
//   - closed loop (ClosedLoop): N workers send back to back, which finds
//     the maximum throughput.
//
// Latencies go into HDR histograms (Recorder), one per label: the tier that
// answered a recommendation request, as the response's "tier" says, so a
// request meant for the vector tier that was answered from the cache
// counts as a cache hit. The scenarios (Serving, Freshness, Ingest) choose
// users so that each tier is exercised on purpose; Report renders their
// results as Markdown tables and JSON.
package loadgen
