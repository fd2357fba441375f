package actors

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/training"
)

// matrixPipeline trains on a fixed matrix and records what it was given:
// these tests are about the coordination, the real pipeline has its own.
type matrixPipeline struct {
	m      *als.Matrix
	fit    *als.Matrix // the holdout fit's matrix; nil: m (no refit)
	p      als.Params
	gate   chan struct{} // if set, Prepare waits for it
	mu     sync.Mutex
	users  *als.Factors
	items  *als.Factors
	fitted training.Fitted // the holdout fit Finish got
	called int
}

func (mp *matrixPipeline) Prepare(ctx context.Context, _ training.Options, phase func(string)) (*training.Plan, error) {
	if mp.gate != nil {
		select {
		case <-mp.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fit := mp.fit
	if fit == nil {
		fit = mp.m
	}
	return &training.Plan{Fit: fit, Full: mp.m, Params: mp.p}, nil
}

func (mp *matrixPipeline) Finish(_ context.Context, _ *training.Plan, holdout, full training.Fitted, phase func(string)) (*training.Outcome, error) {
	mp.mu.Lock()
	defer mp.mu.Unlock()
	mp.users, mp.items = full.Users.Clone(), full.Items.Clone()
	mp.fitted = training.Fitted{Users: holdout.Users.Clone(), Items: holdout.Items.Clone()}
	mp.called++
	return &training.Outcome{Model: nil}, nil
}

func randomMatrix(t *testing.T, users, items, perUser int) *als.Matrix {
	r := rand.New(rand.NewPCG(3, 4))
	var b als.Builder
	for u := 0; u < users; u++ {
		for j := 0; j < perUser; j++ {
			w := float64(1 + r.IntN(5))
			if r.IntN(10) == 0 {
				w = -4
			}
			b.Add(u, r.IntN(items), w)
		}
	}
	m, err := b.Build(users, items)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitJob(t *testing.T, f *fixture, id string) training.Job {
	t.Helper()
	var job training.Job
	waitFor(t, "training job "+id+" to end", func() bool {
		j, found, err := f.sys.Job(testCtx(t), id)
		job = j
		return err == nil && found && j.Done()
	})
	return job
}

func trainerFixture(t *testing.T, mp *matrixPipeline, shards int, hook func(*solveBlock)) *fixture {
	return newFixture(t, Config{Shards: shards, shardHook: hook}, func(d *Deps) { d.Training = mp })
}

func TestShardedTrainingMatchesALS(t *testing.T) {
	t.Parallel()
	for _, solver := range []string{als.SolverCG, als.SolverCholesky} {
		t.Run(solver, func(t *testing.T) { testShardedTrainingMatchesALS(t, solver) })
	}
}

func testShardedTrainingMatchesALS(t *testing.T, solver string) {
	m := randomMatrix(t, 300, 120, 12)
	p := als.DefaultParams()
	p.Factors, p.Iterations = 8, 4
	p.Solver = solver
	wantUsers, wantItems, err := als.Train(context.Background(), m, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, shards := range []int{1, 3} {
		mp := &matrixPipeline{m: m, p: p}
		f := trainerFixture(t, mp, shards, nil)
		job, started, err := f.sys.Train(testCtx(t), "test", training.Options{})
		if err != nil || !started {
			t.Fatalf("Train: %v, started=%v", err, started)
		}
		done := waitJob(t, f, job.ID)
		if done.State != training.JobSucceeded || done.Iteration != p.Iterations || done.Loss <= 0 {
			t.Fatalf("%d shards: job = %+v", shards, done)
		}
		if !slices.Equal(mp.items.Data, wantItems.Data) || !slices.Equal(mp.users.Data, wantUsers.Data) {
			t.Fatalf("%d shards: factors differ from als.Train", shards)
		}
	}
}

// TestRefitOnEverything: with entries held out, a job fits twice on the
// shards — the holdout fit, which Finish evaluates, and the full fit of
// the same parameters and seed, which it publishes — and each is the
// model als.Train fits on that matrix, bit for bit, whatever the number
// of shards.
func TestRefitOnEverything(t *testing.T) {
	t.Parallel()
	full := randomMatrix(t, 240, 90, 12)
	// The holdout fit's matrix: every user's last entry removed.
	var b als.Builder
	for u := 0; u < full.Rows; u++ {
		cols, vals := full.Row(u)
		for j := range len(cols) - 1 {
			b.Add(u, int(cols[j]), float64(vals[j]))
		}
	}
	fit, err := b.Build(full.Rows, full.Cols)
	if err != nil {
		t.Fatal(err)
	}
	p := als.DefaultParams()
	p.Factors, p.Iterations = 8, 3
	wantFitUsers, wantFitItems, err := als.Train(context.Background(), fit, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantUsers, wantItems, err := als.Train(context.Background(), full, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(wantItems.Data, wantFitItems.Data) {
		t.Fatal("the two fits agree: the test cannot tell them apart")
	}
	for _, shards := range []int{1, 3} {
		mp := &matrixPipeline{m: full, fit: fit, p: p}
		f := trainerFixture(t, mp, shards, nil)
		job, _, err := f.sys.Train(testCtx(t), "test", training.Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := waitJob(t, f, job.ID)
		if done.State != training.JobSucceeded || done.Iteration != p.Iterations {
			t.Fatalf("%d shards: job = %+v", shards, done)
		}
		for _, ph := range []string{training.PhaseTraining, training.PhaseRefitting} {
			if _, ok := done.Timings[ph]; !ok {
				t.Errorf("%d shards: no %s phase in %v", shards, ph, done.Timings)
			}
		}
		if !slices.Equal(mp.fitted.Users.Data, wantFitUsers.Data) || !slices.Equal(mp.fitted.Items.Data, wantFitItems.Data) {
			t.Errorf("%d shards: the holdout fit differs from als.Train on the holdout matrix", shards)
		}
		if !slices.Equal(mp.users.Data, wantUsers.Data) || !slices.Equal(mp.items.Data, wantItems.Data) {
			t.Errorf("%d shards: the published fit differs from als.Train on all data", shards)
		}
	}
}

func TestCrashedShardIsRestartedAndItsBlockRecomputed(t *testing.T) {
	t.Parallel()
	m := randomMatrix(t, 200, 80, 10)
	p := als.DefaultParams()
	p.Factors, p.Iterations = 8, 3
	clean := &matrixPipeline{m: m, p: p}
	fc := trainerFixture(t, clean, 2, nil)
	job, _, _ := fc.sys.Train(testCtx(t), "test", training.Options{})
	waitJob(t, fc, job.ID)

	var once sync.Once
	crashed := false
	crashy := &matrixPipeline{m: m, p: p}
	f := trainerFixture(t, crashy, 2, func(b *solveBlock) {
		if b.Step == 3 && b.Block == 1 {
			once.Do(func() { crashed = true; panic("simulated shard crash") })
		}
	})
	job, _, _ = f.sys.Train(testCtx(t), "test", training.Options{})
	done := waitJob(t, f, job.ID)
	if !crashed || done.State != training.JobSucceeded {
		t.Fatalf("crashed=%v, job = %+v", crashed, done)
	}
	if !slices.Equal(crashy.users.Data, clean.users.Data) || !slices.Equal(crashy.items.Data, clean.items.Data) {
		t.Fatal("the recomputed block changed the result")
	}
}

func TestAlwaysCrashingShardFailsTheJob(t *testing.T) {
	t.Parallel()
	mp := &matrixPipeline{m: randomMatrix(t, 50, 30, 5), p: als.Params{Factors: 4, Alpha: 1, Lambda: 1, Iterations: 2, Seed: 1}}
	f := trainerFixture(t, mp, 2, func(b *solveBlock) {
		if b.Block == 0 {
			panic("always")
		}
	})
	job, _, _ := f.sys.Train(testCtx(t), "test", training.Options{})
	done := waitJob(t, f, job.ID)
	if done.State != training.JobFailed || done.Error == "" || mp.called != 0 {
		t.Fatalf("job = %+v, finish called %d times", done, mp.called)
	}
}

func TestOnlyOneJobRunsAtATime(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	mp := &matrixPipeline{m: randomMatrix(t, 50, 30, 5), p: als.Params{Factors: 4, Alpha: 1, Lambda: 1, Iterations: 2, Seed: 1}, gate: gate}
	f := trainerFixture(t, mp, 2, nil)
	first, started, _ := f.sys.Train(testCtx(t), "api", training.Options{})
	second, again, _ := f.sys.Train(testCtx(t), "cron", training.Options{})
	if !started || again || second.ID != first.ID || second.Reason != "api" {
		t.Fatalf("second request: started=%v id=%s (first %s)", again, second.ID, first.ID)
	}
	cur, _, err := f.sys.Training(testCtx(t))
	if err != nil || cur == nil || cur.ID != first.ID || cur.State != training.JobRunning || cur.Phase != training.PhaseLoading {
		t.Fatalf("status while running: %+v, %v", cur, err)
	}
	close(gate)
	waitJob(t, f, first.ID)
	third, started, _ := f.sys.Train(testCtx(t), "api", training.Options{})
	if !started || third.ID == first.ID {
		t.Fatal("a new job did not start after the first ended")
	}
	waitJob(t, f, third.ID)
	_, recent, _ := f.sys.Training(testCtx(t))
	if len(recent) != 1 || recent[0].ID != first.ID {
		t.Fatalf("recent jobs = %+v", recent)
	}
}

func TestTrainingDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	if _, _, err := f.sys.Train(testCtx(t), "api", training.Options{}); !errors.Is(err, training.ErrDisabled) {
		t.Fatalf("err = %v, want ErrDisabled", err)
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 13, 30, 0, 0, time.UTC)
	tests := []struct {
		spec string
		next time.Time
		bad  bool
	}{
		{"0 2 * * *", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{"30 * * * *", time.Date(2026, 11, 29, 14, 30, 0, 0, time.UTC), false},
		{"@every 6h", at.Add(6 * time.Hour), false},
		{"@daily", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), false},
		{"0 25 * * *", time.Time{}, true},
		{"every day", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if (err != nil) != tt.bad {
			t.Errorf("%q: err = %v", tt.spec, err)
			continue
		}
		if err == nil && !s.Next(at).Equal(tt.next) {
			t.Errorf("%q: next = %v, want %v", tt.spec, s.Next(at), tt.next)
		}
	}
}

func TestSchedulerTriggersTraining(t *testing.T) {
	t.Parallel()
	sched, err := ParseSchedule("@every 1s")
	if err != nil {
		t.Fatal(err)
	}
	mp := &matrixPipeline{m: randomMatrix(t, 50, 30, 5), p: als.Params{Factors: 4, Alpha: 1, Lambda: 1, Iterations: 1, Seed: 1}}
	f := newFixture(t, Config{TrainSchedule: sched, Shards: 2}, func(d *Deps) { d.Training = mp })
	waitFor(t, "two scheduled runs", func() bool {
		_, recent, _ := f.sys.Training(testCtx(t))
		return len(recent) >= 1
	})
	cur, _, _ := f.sys.Training(testCtx(t))
	if cur == nil || cur.Reason != "cron" {
		t.Fatalf("current job = %+v, want one started by cron", cur)
	}
}
