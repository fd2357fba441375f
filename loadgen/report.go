package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes one table per scenario, with medians over the runs.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Load generator: %s, %d CPUs, GOMAXPROCS=%d, %s, %s. ", m.CPU, m.CPUs, m.GOMAXPROCS, m.OS, m.Go)
	if m.Loopback {
		b.WriteString("The node runs on the same machine (loopback): generator and server share its CPUs. ")
	}
	fmt.Fprintf(&b, "Node %s", r.URL)
	if r.Note != "" {
		fmt.Fprintf(&b, " (%s)", r.Note)
	}
	fmt.Fprintf(&b, ". Medians of %d run(s); times in ms.\n", r.Runs)
	if s := r.Serving; s != nil {
		writeServing(&b, s)
	}
	if f := r.Freshness; f != nil {
		writeFreshness(&b, f)
	}
	if in := r.Ingest; in != nil {
		writeIngest(&b, in)
	}
	if sa := r.Saturation; sa != nil {
		writeSaturation(&b, sa)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeServing(b *strings.Builder, s *ServingReport) {
	fmt.Fprintf(b, "\n### Serving\n\n")
	b.WriteString("| stream | load | answered by | requests | per s | p50 | p95 | p99 | p99.9 | max | p99 service | errors |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, st := range s.Median {
		load := fmt.Sprintf("open, %g/s", st.Offered)
		if st.Mode == "closed" {
			load = fmt.Sprintf("closed, %d workers", st.Workers)
		}
		service := map[string]Stats{}
		for _, sv := range st.Service {
			service[sv.Label] = sv
		}
		for _, t := range st.Tiers {
			svc := "–"
			if sv, ok := service[t.Label]; ok {
				svc = ms(sv.P99)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %d |\n",
				st.Stream, load, t.Label, t.Count, t.PerSecond, ms(t.P50), ms(t.P95), ms(t.P99), ms(t.P999), ms(t.Max), svc, t.Errors)
		}
	}
	b.WriteString("\nLatency is from each request's due time in open loop (p99 service: from its actual send).")
	for _, st := range s.Median {
		if st.Mode == "open" {
			fmt.Fprintf(b, " %s: scheduler lag p99 %s ms", st.Stream, ms(st.Lag.P99))
			if st.Events > 0 {
				fmt.Fprintf(b, ", %d events posted ahead (%d failed)", st.Events, st.EventErrors)
			}
			b.WriteString(".")
		}
	}
	b.WriteString("\n")
	var skipped int
	for _, run := range s.Runs {
		skipped += len(run.Skipped)
	}
	if skipped > 0 {
		fmt.Fprintf(b, "Batch set-up skipped %d candidate user(s), e.g. %s.\n", skipped, firstSkipped(s.Runs))
	}
}

func firstSkipped(runs []ServingResult) string {
	for _, r := range runs {
		if len(r.Skipped) > 0 {
			return r.Skipped[0]
		}
	}
	return ""
}

func writeFreshness(b *strings.Builder, f *FreshnessReport) {
	fmt.Fprintf(b, "\n### Freshness\n\n")
	b.WriteString("| measure | samples | p50 | p95 | p99 | max | errors |\n|---|---|---|---|---|---|---|\n")
	names := map[string]string{"changed": "POST start → changed list", "post": "POST → 202", ErrorLabel: "failed"}
	for _, s := range f.Median {
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %d |\n", names[s.Label], s.Count, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.Errors)
	}
	tiers := map[string]int{}
	var polls []float64
	for _, r := range f.Runs {
		for t, n := range r.Tiers {
			tiers[t] += n
		}
		polls = append(polls, r.Polls)
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(tiers)) {
		parts = append(parts, fmt.Sprintf("%s %d", t, tiers[t]))
	}
	fmt.Fprintf(b, "\nChanged lists answered by: %s (all runs). Median %.1f polls per sample.\n", strings.Join(parts, ", "), median(polls))
}

func writeIngest(b *strings.Builder, in *IngestReport) {
	fmt.Fprintf(b, "\n### Ingest\n\n")
	mode := fmt.Sprintf("closed loop, %d posters", in.Config.Workers)
	if in.Config.Rate > 0 {
		mode = fmt.Sprintf("open loop, %g events/s offered", in.Config.Rate)
	}
	fmt.Fprintf(b, "%s, %d events per request, %d users.\n\n", mode, in.Config.Batch, in.Config.Users.Count)
	b.WriteString("| run | accepted | applied | stored (read back) | lost | events/s end to end | posting s | until applied s | POST p50 | POST p99 | zero loss |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range in.Runs {
		var post Stats
		for _, s := range r.Requests {
			if s.Label == "accepted" {
				post = s
			}
		}
		fmt.Fprintf(b, "| %d | %d | %d | %d | %d | %.0f | %.1f | %.1f | %s | %s | %v |\n", i+1, r.Accepted, r.Applied, r.Stored, r.Lost,
			r.PerSecond, r.PostSeconds, r.Seconds, ms(post.P50), ms(post.P99), yesNo(r.ZeroLoss))
	}
	fmt.Fprintf(b, "\nMedian %.0f events/s end to end; zero loss in every run: %s.\n", in.MedianPerSecond, yesNo(in.ZeroLoss))
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// ms formats milliseconds with about three significant digits.
func ms(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func writeSaturation(b *strings.Builder, s *SaturationReport) {
	c := s.Config
	fmt.Fprintf(b, "\n### Saturation\n\nClosed loop, %d connections, %d users drawn at random, %s measured after a %s warm-up.\n\n",
		c.Connections, len(c.Users), c.Duration, c.Warmup)
	b.WriteString("| run | requests/s | p50 | p99 | p99.9 | max | shed (503) | errors | answered by | generator cores | node cores |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	row := func(name string, r SaturationResult) {
		l := r.Latency
		var tiers []string
		for _, t := range slices.Sorted(maps.Keys(r.ByTier)) {
			tiers = append(tiers, fmt.Sprintf("%s %d", t, r.ByTier[t]))
		}
		fmt.Fprintf(b, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %d | %s | %.2f | %.2f |\n",
			name, l.PerSecond, l.P50, l.P99, l.P999, l.Max, r.Shed, r.Errors, strings.Join(tiers, ", "), r.GeneratorCPU, r.NodeCPU)
	}
	for i, r := range s.Runs {
		row(fmt.Sprint(i+1), r)
	}
	if len(s.Runs) > 1 {
		row("median", s.Median)
	}
	if len(s.Runs) == 0 || s.Runs[0].Runtime == nil {
		return
	}
	b.WriteString("\nThe node's runtime over each run (its /debug/runtime):\n\n")
	b.WriteString("| run | GC share of node CPU | of which assists | GC cycles | scheduling latency p99 | p99.9 | longest GC pause |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for i, r := range s.Runs {
		if rt := r.Runtime; rt != nil {
			fmt.Fprintf(b, "| %d | %.1f%% | %.1f%% | %.0f | %.3f ms | %.3f ms | %.3f ms |\n",
				i+1, 100*rt.GCShare, 100*rt.AssistShare, rt.GCCycles, rt.SchedP99, rt.SchedP999, rt.GCPauseMax)
		}
	}
}
