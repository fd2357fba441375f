package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one operation of a load (typically one HTTP request). It returns
// the label its latency is recorded under (for a recommendation request,
// the tier that answered); an empty label records nothing, for an op that
// turned out not to apply. An error is counted as a failure under label,
// or under "error" when label is empty, and its latency recorded there.
type Op func(ctx context.Context, seq int) (label string, err error)

// ErrorLabel is the label of failed operations that did not name one.
const ErrorLabel = "error"

// Result describes one run of a scheduler.
type Result struct {
	// Ops is how many operations ran.
	Ops int64
	// Elapsed is from the start of the schedule to the end of its last
	// operation.
	Elapsed time.Duration
	// Lag is how late operations were sent after they were due (open
	// loop only): the scheduler's own delay, part of every latency.
	Lag Stats
}

// OpenLoop offers operations at a fixed rate for a duration: operation i is
// due at Start + i/Rate, and its latency is measured from that time, so
// time spent waiting for a free slot (MaxInFlight in flight) or for the
// scheduler to wake up counts. That is what keeps a stalled server from
// hiding its stall (coordinated omission).
type OpenLoop struct {
	Rate     float64       // operations per second
	Duration time.Duration // operations due in [Start, Start+Duration)
	// Start is when operation 0 is due; zero means now. Two loops with
	// related starts keep a fixed offset (an event, then a request).
	Start time.Time
	// MaxInFlight bounds concurrent operations (default 1024); an op due
	// while all slots are busy waits, and the wait is in its latency.
	MaxInFlight int
	Clock       Clock
}

// Run runs op on the schedule, recording latencies from the due time in
// latency and, if service is not nil, from the actual start in service.
// It returns when every started operation has finished; ctx ending stops
// the schedule early.
//
// Operations run on a pool of workers that grows up to MaxInFlight as
// needed, rather than a goroutine each: a fresh goroutine grows its stack
// through the HTTP client on every request, which costs the generator CPU
// it shares with the server.
func (o OpenLoop) Run(ctx context.Context, latency, service *Recorder, op Op) (Result, error) {
	if o.Rate <= 0 || o.Duration <= 0 {
		return Result{}, errors.New("loadgen: an open loop needs a positive rate and duration")
	}
	clock := o.Clock
	if clock == nil {
		clock = RealClock{}
	}
	slots := o.MaxInFlight
	if slots <= 0 {
		slots = 1024
	}
	if _, real := clock.(RealClock); real {
		defer pinForPacing()()
	}
	start := o.Start
	if start.IsZero() {
		start = clock.Now()
	}
	end := start.Add(o.Duration)
	lag := NewRecorder()
	var ops atomic.Int64
	var lastEnd atomic.Int64 // UnixNano of the latest finish
	// An idle worker offers its own job channel on ready.
	ready := make(chan chan job, slots)
	workers := 0
	work := func(mine chan job) {
		for j := range mine {
			label, opErr := op(ctx, j.seq)
			done := clock.Now()
			record(latency, label, opErr, done.Sub(j.due))
			if service != nil {
				record(service, label, opErr, done.Sub(j.sent))
			}
			ops.Add(1)
			storeMax(&lastEnd, done.UnixNano())
			ready <- mine
		}
	}
	var err error
	for i := 0; ; i++ {
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / o.Rate))
		if !due.Before(end) {
			break
		}
		// Take a worker before sleeping: while all are busy the op is
		// already late, and its lateness is measured from due.
		var w chan job
		select {
		case w = <-ready:
		default:
			if workers < slots {
				workers++
				w = make(chan job, 1)
				go work(w)
			} else {
				select {
				case w = <-ready:
				case <-ctx.Done():
					err = ctx.Err()
				}
			}
		}
		if err != nil {
			break
		}
		if err = clock.SleepUntil(ctx, due); err != nil {
			ready <- w
			break
		}
		sent := clock.Now()
		lag.Record("lag", sent.Sub(due))
		w <- job{seq: i, due: due, sent: sent}
	}
	// Every worker comes back idle once its last op is done.
	for range workers {
		close(<-ready)
	}
	res := Result{Ops: ops.Load(), Lag: lag.Stats("lag", 0)}
	if n := lastEnd.Load(); n > 0 {
		res.Elapsed = time.Unix(0, n).Sub(start)
	}
	return res, err
}

type job struct {
	seq       int
	due, sent time.Time
}

// ClosedLoop runs Workers workers that each send their next operation as
// soon as the previous one is answered, for Duration: the maximum
// throughput at that concurrency. Latency is from send to answer.
type ClosedLoop struct {
	Workers  int
	Duration time.Duration
	Clock    Clock
}

// Run runs op until Duration has passed (or ctx ends) and every worker
// finished its last operation.
func (c ClosedLoop) Run(ctx context.Context, latency *Recorder, op Op) (Result, error) {
	if c.Workers <= 0 || c.Duration <= 0 {
		return Result{}, errors.New("loadgen: a closed loop needs workers and a positive duration")
	}
	clock := c.Clock
	if clock == nil {
		clock = RealClock{}
	}
	start := clock.Now()
	end := start.Add(c.Duration)
	var seq, ops, lastEnd atomic.Int64
	var wg sync.WaitGroup
	for range c.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				sent := clock.Now()
				if !sent.Before(end) {
					return
				}
				label, err := op(ctx, int(seq.Add(1)-1))
				done := clock.Now()
				record(latency, label, err, done.Sub(sent))
				ops.Add(1)
				storeMax(&lastEnd, done.UnixNano())
			}
		})
	}
	wg.Wait()
	res := Result{Ops: ops.Load()}
	if n := lastEnd.Load(); n > 0 {
		res.Elapsed = time.Unix(0, n).Sub(start)
	}
	return res, ctx.Err()
}

func record(r *Recorder, label string, err error, d time.Duration) {
	if err != nil {
		if label == "" {
			label = ErrorLabel
		}
		r.Fail(label)
		r.Record(label, d)
		return
	}
	if label != "" {
		r.Record(label, d)
	}
}

func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}
