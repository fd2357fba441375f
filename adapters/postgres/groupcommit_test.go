package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/ports"
)

// gatedExec doubles its requests; while gate is set, a batch holding the
// request 0 waits on it, keeping its flush slot busy.
type gatedExec struct {
	gate    chan struct{}
	started chan struct{}
	calls   atomic.Int64
	mu      sync.Mutex
	sizes   []int
	failOn  int // a batch holding this request fails (0: never)
	errWrap error
}

func (g *gatedExec) exec(_ context.Context, reqs []int) ([]int, error) {
	g.calls.Add(1)
	g.mu.Lock()
	g.sizes = append(g.sizes, len(reqs))
	g.mu.Unlock()
	out := make([]int, len(reqs))
	for i, r := range reqs {
		if r == 0 && g.gate != nil {
			close(g.started)
			<-g.gate
		}
		if g.failOn != 0 && r == g.failOn {
			return nil, fmt.Errorf("request %d refused: %w", r, g.errWrap)
		}
		out[i] = 2 * r
	}
	return out, nil
}

// hold starts request 0 and returns once its batch runs (its slot busy).
func hold(t *testing.T, gc *groupCommit[int, int], g *gatedExec) <-chan error {
	t.Helper()
	g.gate, g.started = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := gc.do(context.Background(), 0)
		done <- err
	}()
	<-g.started
	return done
}

// queue starts calls for requests from..to-1 and waits until all queue.
func queue(t *testing.T, gc *groupCommit[int, int], ctx context.Context, from, to int) (res []int, errs []error, wait func()) {
	t.Helper()
	res, errs = make([]int, to), make([]error, to)
	var wg sync.WaitGroup
	for r := from; r < to; r++ {
		wg.Go(func() { res[r], errs[r] = gc.do(ctx, r) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		gc.mu.Lock()
		n := len(gc.pending)
		gc.mu.Unlock()
		if n == to-from || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return res, errs, wg.Wait
}

// behindHeld queues requests 1..to-1 behind a held batch, then releases
// it and returns what each call got.
func behindHeld(t *testing.T, gc *groupCommit[int, int], g *gatedExec, to int) ([]int, []error) {
	t.Helper()
	held := hold(t, gc, g)
	res, errs, wait := queue(t, gc, context.Background(), 1, to)
	close(g.gate)
	wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	return res, errs
}

func TestGroupCommitMergesQueuedCalls(t *testing.T) {
	t.Parallel()
	g := &gatedExec{}
	gc := newGroupCommit(1, 100, g.exec)
	res, errs := behindHeld(t, gc, g, 51)
	for r := 1; r < 51; r++ {
		if errs[r] != nil || res[r] != 2*r {
			t.Fatalf("request %d: %d, %v", r, res[r], errs[r])
		}
	}
	if n := g.calls.Load(); n != 2 {
		t.Fatalf("%d statements for 51 calls (sizes %v), want 2: the held one and one for the 50 queued behind it", n, g.sizes)
	}
}

func TestGroupCommitHonoursItsLimit(t *testing.T) {
	t.Parallel()
	g := &gatedExec{}
	gc := newGroupCommit(1, 8, g.exec)
	_, errs := behindHeld(t, gc, g, 21)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range g.sizes {
		if n > 8 {
			t.Fatalf("batch of %d (sizes %v), limit 8", n, g.sizes)
		}
	}
}

// A statement refused for one request's sake fails that request only.
func TestGroupCommitIsolatesABadRequest(t *testing.T) {
	t.Parallel()
	g := &gatedExec{failOn: 7, errWrap: errors.New("constraint")}
	gc := newGroupCommit(1, 100, g.exec)
	res, errs := behindHeld(t, gc, g, 11)
	for r := 1; r < 11; r++ {
		if r == 7 {
			if errs[r] == nil {
				t.Fatal("the bad request succeeded")
			}
			continue
		}
		if errs[r] != nil || res[r] != 2*r {
			t.Fatalf("request %d failed with the bad one: %d, %v", r, res[r], errs[r])
		}
	}
}

// An unavailable database fails the whole batch at once: retrying each
// request would only wait for it once per request.
func TestGroupCommitFailsFastWhenUnavailable(t *testing.T) {
	t.Parallel()
	g := &gatedExec{failOn: 3, errWrap: ports.ErrUnavailable}
	gc := newGroupCommit(1, 100, g.exec)
	_, errs := behindHeld(t, gc, g, 11)
	for r := 1; r < 11; r++ {
		if !errors.Is(errs[r], ports.ErrUnavailable) {
			t.Fatalf("request %d: %v, want unavailable", r, errs[r])
		}
	}
	if n := g.calls.Load(); n != 2 {
		t.Fatalf("%d statements, want 2 (no retries one by one)", n)
	}
}

// A call whose context ends while it waits in the queue is withdrawn and
// never executed: its caller's error means the write did not happen.
func TestGroupCommitWithdrawsCallsThatGaveUp(t *testing.T) {
	t.Parallel()
	g := &gatedExec{}
	gc := newGroupCommit(1, 100, g.exec)
	held := hold(t, gc, g)
	ctx, cancel := context.WithCancel(context.Background())
	_, errs, wait := queue(t, gc, ctx, 1, 6)
	cancel()
	wait()
	for r := 1; r < 6; r++ {
		if !errors.Is(errs[r], context.Canceled) {
			t.Fatalf("request %d: %v, want canceled", r, errs[r])
		}
	}
	close(g.gate)
	<-held
	if n := g.calls.Load(); n != 1 {
		t.Fatalf("%d statements (sizes %v): withdrawn calls were executed", n, g.sizes)
	}
}

// With several flushers, a caller whose request another flusher took
// waits for it rather than taking slots and empty queues until it is
// done: empty takes stay a handful per call, not thousands.
func TestGroupCommitWaitersDoNotSpin(t *testing.T) {
	t.Parallel()
	const flushers, callers, rounds = 4, 32, 20
	exec := func(_ context.Context, reqs []int) ([]int, error) {
		time.Sleep(5 * time.Millisecond) // a statement's round trip
		out := make([]int, len(reqs))
		for i, r := range reqs {
			out[i] = 2 * r
		}
		return out, nil
	}
	gc := newGroupCommit(flushers, groupLimit, exec)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for r := range rounds {
				req := c*rounds + r
				if res, err := gc.do(context.Background(), req); err != nil || res != 2*req {
					t.Errorf("request %d: %d, %v", req, res, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Each call can meet at most one empty take: it then waits.
	if n := gc.emptyTakes.Load(); n > callers*rounds {
		t.Fatalf("%d empty takes for %d calls: waiters spin on the queue", n, callers*rounds)
	}
	t.Logf("%d empty takes for %d calls with %d flushers", gc.emptyTakes.Load(), callers*rounds, flushers)
}
