package s3_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/training"
)

// TestLoaderReadsTheArchiveFromMinIO writes MARQUEE_BENCH_ARCHIVE_EVENTS
// synthetic interactions (10,000,000 for BENCHMARKS.md) straight into a
// Parquet archive on MinIO, in files of at most 100K rows of one day as
// the archiver writes them, then times the training loader reading them
// all back (with the hot table as a second, empty, source, as in
// production) and samples its peak heap. Skipped unless the variable is
// set: it takes minutes.
func TestLoaderReadsTheArchiveFromMinIO(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MARQUEE_BENCH_ARCHIVE_EVENTS"))
	if n <= 0 {
		t.Skip("set MARQUEE_BENCH_ARCHIVE_EVENTS (10000000 for BENCHMARKS.md) to run")
	}
	ctx := context.Background()
	archive := parquet.New(newTestStore(t))
	cfg := synth.DefaultConfig()
	cfg.Users = max(1, n/40)
	gen, err := synth.New(cfg, synth.Movies(max(200, n/500), 1))
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 100_000
	var files []ports.ArchiveFile
	var bytes int64
	days := map[int64][]domain.Interaction{}
	flush := func(day int64) error {
		f, err := archive.WriteDay(ctx, time.Unix(day*86400, 0), days[day])
		if err != nil {
			return err
		}
		files = append(files, f)
		bytes += f.Bytes
		days[day] = days[day][:0]
		return nil
	}
	start, events := time.Now(), 0
	err = gen.Each(func(ev domain.Interaction) error {
		events++
		d := ev.Time.Unix() / 86400
		days[d] = append(days[d], ev)
		if len(days[d]) == chunk {
			return flush(d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for d, rows := range days {
		if len(rows) > 0 {
			if err := flush(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	days = nil
	write := time.Since(start)
	t.Logf("wrote %d events in %d files, %.1f MB (%.1f MB per million events) in %s (generation included)",
		events, len(files), float64(bytes)/1e6, float64(bytes)/1e6/(float64(events)/1e6), write.Round(time.Millisecond))

	emptyHot := func(context.Context, func(domain.Interaction) error) error { return nil }
	scan := func(ctx context.Context, fn func(domain.Interaction) error) error {
		return archive.Scan(ctx, files, ports.TrainingFields, fn)
	}
	heap := sampleHeap()
	start = time.Now()
	ds, err := training.Load(ctx, emptyHot, scan)
	took := time.Since(start)
	peak := heap.Peak()
	if err != nil {
		t.Fatal(err)
	}
	if ds.Events != events {
		t.Fatalf("loaded %d events, wrote %d", ds.Events, events)
	}
	t.Logf("loader: %d events (%d users × %d movies, %d entries) read from MinIO in %s (%.0f events/s); peak heap %.0f MB",
		ds.Events, len(ds.Users), len(ds.Movies), ds.Matrix.NNZ(), took.Round(time.Millisecond), float64(ds.Events)/took.Seconds(), float64(peak)/1e6)
}
