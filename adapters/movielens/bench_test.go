package movielens

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/synth"
)

const benchRatings = 1_000_000

var (
	benchOnce sync.Once
	benchDirs struct {
		latest, ml100k, marquee string
		err                     error
	}
)

// benchGenerator generates about 1M synthetic events over 20K movies.
func benchGenerator() ([]domain.Movie, *synth.Generator, error) {
	cfg := synth.DefaultConfig()
	cfg.Users = benchRatings / int(cfg.MeanEventsPerUser)
	movies := synth.Movies(20000, 1)
	g, err := synth.New(cfg, movies)
	return movies, g, err
}

// benchData writes, once per test binary, 1M ratings in the ml-latest and
// ML-100K layouts, shaped like ml-25m (sorted by user, ~150 ratings per
// user, 60K movies, half stars), and a Marquee dataset of 1M synthetic
// events. Nothing stays in memory, so the read benchmarks' GC is their own.
func benchData(b *testing.B) {
	b.Helper()
	benchOnce.Do(func() {
		root, err := os.MkdirTemp("", "movielens-bench-")
		if err != nil {
			benchDirs.err = err
			return
		}
		benchDirs.latest, benchDirs.ml100k, benchDirs.marquee = filepath.Join(root, "latest"), filepath.Join(root, "ml100k"), filepath.Join(root, "marquee")
		benchDirs.err = writeBenchRatings(benchDirs.latest, benchDirs.ml100k)
		if benchDirs.err != nil {
			return
		}
		movies, g, err := benchGenerator()
		if err == nil {
			_, err = Write(context.Background(), benchDirs.marquee, movies, g.Each)
		}
		benchDirs.err = err
	})
	if benchDirs.err != nil {
		b.Fatal(benchDirs.err)
	}
}

func writeBenchRatings(latest, ml100k string) error {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dir := range []string{latest, ml100k} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	fl, err := os.Create(filepath.Join(latest, FileRatings))
	if err != nil {
		return err
	}
	defer fl.Close()
	fu, err := os.Create(filepath.Join(ml100k, FileUData))
	if err != nil {
		return err
	}
	defer fu.Close()
	wl, wu := bufio.NewWriter(fl), bufio.NewWriter(fu)
	if _, err := wl.WriteString(ratingsHeader + "\n"); err != nil {
		return err
	}
	var line []byte
	user := 1
	for range benchRatings {
		if r.IntN(150) == 0 {
			user++
		}
		movie := 1 + r.IntN(60000)
		half := 1 + r.IntN(10)
		ts := 820454400 + r.Int64N(1_500_000_000-820454400)
		for i, sep := range []byte{',', '\t'} {
			line = strconv.AppendInt(line[:0], int64(user), 10)
			line = append(line, sep)
			line = strconv.AppendInt(line, int64(movie), 10)
			line = append(line, sep)
			line = strconv.AppendFloat(line, float64(half)/2, 'f', 1, 64)
			line = append(line, sep)
			line = append(strconv.AppendInt(line, ts, 10), '\n')
			if _, err := []*bufio.Writer{wl, wu}[i].Write(line); err != nil {
				return err
			}
		}
	}
	if err := wl.Flush(); err != nil {
		return err
	}
	return wu.Flush()
}

func eachOf(evs []domain.Interaction) func(func(domain.Interaction) error) error {
	return func(fn func(domain.Interaction) error) error {
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	}
}

func benchRead(b *testing.B, dir func() string) {
	benchData(b)
	d, err := Open(dir())
	if err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(d.InteractionsFile())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		if err := d.EachInteraction(context.Background(), func(domain.Interaction) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if s := d.Stats().Interactions; s.Skipped != 0 {
			b.Fatalf("skipped %d: %v", s.Skipped, s.Errors)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadRatingsCSV reads 1M ratings in the ml-latest layout.
func BenchmarkReadRatingsCSV(b *testing.B) { benchRead(b, func() string { return benchDirs.latest }) }

// BenchmarkReadUData reads 1M ratings in the ML-100K layout.
func BenchmarkReadUData(b *testing.B) { benchRead(b, func() string { return benchDirs.ml100k }) }

// BenchmarkReadEventsCSV reads 1M synthetic events in the Marquee layout.
func BenchmarkReadEventsCSV(b *testing.B) { benchRead(b, func() string { return benchDirs.marquee }) }

// BenchmarkWrite writes 1M synthetic events (already in memory) as a
// Marquee dataset.
func BenchmarkWrite(b *testing.B) {
	movies, g, err := benchGenerator()
	if err != nil {
		b.Fatal(err)
	}
	var events []domain.Interaction
	if err := g.Each(func(ev domain.Interaction) error { events = append(events, ev); return nil }); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.ReportAllocs()
	var n, size int64
	for b.Loop() {
		st, err := Write(context.Background(), dir, movies, eachOf(events))
		if err != nil {
			b.Fatal(err)
		}
		n += st.Events
		for _, f := range []string{FileEvents, FileRatings, FileMovies} {
			info, err := os.Stat(filepath.Join(dir, f))
			if err != nil {
				b.Fatal(err)
			}
			size += info.Size()
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/1e6/b.Elapsed().Seconds(), "MB/s")
}
