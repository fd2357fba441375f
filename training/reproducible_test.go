package training_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/synth"
	"github.com/marquee-recsys/marquee/training"
)

// reproEvents is the history every run of the reproducibility tests
// trains on, in generation order.
func reproEvents(t testing.TB) []domain.Interaction {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Users = 300
	gen, err := synth.New(cfg, synth.Movies(200, 1))
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Interaction
	if err := gen.Each(func(ev domain.Interaction) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs
}

// reproConfig tunes (three trials and the duel), so the search is part of
// what must reproduce.
func reproConfig() training.Config {
	p := als.DefaultParams()
	p.Factors, p.Iterations = 16, 5
	return training.Config{Params: p, Tune: true, TuneTrials: 3, MinGain: 0.02}
}

// digest hashes everything a training run publishes, bit for bit: the
// model's parameters, item factors, metrics and validation scores, and
// every user's published vector and batch list (scores included). Only
// the version and the times are left out.
func digest(t testing.TB, n *node, m *domain.Model) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	put := func(vs ...any) {
		for _, v := range vs {
			if err := binary.Write(h, binary.LittleEndian, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	floats := func(name string, kv map[string]float64) {
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprint(h, name, k)
			put(math.Float64bits(kv[k]))
		}
	}
	put(int64(m.Factors), m.Alpha, m.Lambda, int64(m.Iterations), int64(m.Users), int64(m.Interactions))
	fmt.Fprint(h, m.Solver, m.Movies)
	put(m.ItemFactors)
	floats("metrics", m.Metrics)
	floats("validation", m.Validation)
	users := map[domain.UserID]bool{}
	if err := n.log.Scan(ctx, func(ev domain.Interaction) error { users[ev.UserID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(users))
	for u := range users {
		ids = append(ids, string(u))
	}
	slices.Sort(ids)
	for _, u := range ids {
		p, err := n.profiles.Get(ctx, domain.UserID(u))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(h, u)
		put(p.Vector)
		l, err := n.batch.Get(ctx, domain.UserID(u))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Items {
			fmt.Fprint(h, it.MovieID)
			put(math.Float64bits(it.Score))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestTrainingIsReproducible trains through the pipeline and the trainer
// actors three times on the same events: stored in two different orders
// (and the in-memory log scans its users in map order, another order
// every scan), with one shard and with three. Everything published must be
// the same bit for bit. The shard count does not matter because the
// trainer computes each half-step's Gram matrix itself, on one goroutine,
// and every row's solve depends on its own data alone.
func TestTrainingIsReproducible(t *testing.T) {
	t.Parallel()
	evs := reproEvents(t)
	shuffled := slices.Clone(evs)
	rand.New(rand.NewPCG(7, 8)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	runs := []struct {
		name   string
		evs    []domain.Interaction
		shards int
	}{
		{"generation order, 1 shard", evs, 1},
		{"shuffled, 1 shard", shuffled, 1},
		{"shuffled, 3 shards", shuffled, 3},
	}
	var first string
	for _, r := range runs {
		n := newNode(t, reproConfig(), r.shards, r.evs)
		job, m := n.train(t, training.Options{})
		if !job.Promoted || !job.Tuned {
			t.Fatalf("%s: promoted=%v tuned=%v (%s)", r.name, job.Promoted, job.Tuned, job.GateReason)
		}
		d := digest(t, n, m)
		t.Logf("%s: %s (ndcg@10 %.4f, noise %.4f)", r.name, d, m.Metrics["ndcg@10"], m.Metrics["ndcg@10_noise"])
		if first == "" {
			first = d
		} else if d != first {
			t.Errorf("%s: published model differs from the first run's", r.name)
		}
	}
}

// TestTrainingIsReproducibleAcrossProcesses trains in two fresh processes
// (this test binary run again, each with its own map hash seeds and
// scheduling) and in this one: the digests must agree.
func TestTrainingIsReproducibleAcrossProcesses(t *testing.T) {
	if os.Getenv("MARQUEE_REPRO_CHILD") == "1" {
		n := newNode(t, reproConfig(), 2, reproEvents(t))
		_, m := n.train(t, training.Options{})
		fmt.Printf("DIGEST %s\n", digest(t, n, m))
		return
	}
	t.Parallel()
	n := newNode(t, reproConfig(), 2, reproEvents(t))
	_, m := n.train(t, training.Options{})
	want := digest(t, n, m)
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTrainingIsReproducibleAcrossProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MARQUEE_REPRO_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, out)
		}
		got := ""
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "DIGEST "); ok {
				got = d
			}
		}
		if got != want {
			t.Errorf("child %d published %q, this process %q\n%s", i, got, want, out)
		}
	}
}
