package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marquee-recsys/marquee/ports"
)

// groupCommit merges concurrent writes of one kind into one statement and
// one commit (group commit). Ingestion is many user actors each storing a
// message of one or two events: one commit apiece bounded it by the
// database's commit rate, with the backends mostly waiting on WAL flushes.
//
// There is no goroutine of its own. A caller queues its request and then
// either waits for it to be done or, when one of the limited flush slots
// is free, takes the slot and flushes everything queued, as many batches
// as it takes until its own request is done. At low load a request is
// flushed alone at once; under load the queue grows while the slots are
// busy, and each flush takes all of it, up to a limit of requests.
//
// A request is either executed or, when its context ends while it still
// waits in the queue, withdrawn: a caller never sees an error for a write
// that was applied. A batch whose statement fails for a reason other than
// the database being unavailable is retried one request at a time, so a
// bad row fails only its own request.
type groupCommit[Req, Res any] struct {
	exec  func(ctx context.Context, reqs []Req) ([]Res, error)
	slots chan struct{}
	limit int

	mu      sync.Mutex
	pending []*groupCall[Req, Res]

	// emptyTakes counts takes that found the queue empty: a flusher whose
	// own request another flusher had taken. Each costs a lock and a
	// slot; tests check that a waiter never spins on them.
	emptyTakes atomic.Int64
}

type groupCall[Req, Res any] struct {
	ctx  context.Context
	req  Req
	res  Res
	err  error
	done chan struct{}
}

// groupLimit is how many calls one group commit of a store merges at most.
const groupLimit = 256

// newGroupCommit returns a group commit running at most flushers batches
// at once, of at most limit requests each.
func newGroupCommit[Req, Res any](flushers, limit int, exec func(context.Context, []Req) ([]Res, error)) *groupCommit[Req, Res] {
	return &groupCommit[Req, Res]{exec: exec, slots: make(chan struct{}, max(1, flushers)), limit: max(1, limit)}
}

// do executes req, merged with whatever else is queued.
func (g *groupCommit[Req, Res]) do(ctx context.Context, req Req) (Res, error) {
	c := &groupCall[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	g.mu.Unlock()
	for {
		select {
		case <-c.done:
			return c.res, c.err
		default:
		}
		select {
		case <-c.done:
			return c.res, c.err
		case g.slots <- struct{}{}:
			taken := g.flushUntil(c)
			<-g.slots
			if taken {
				// Another flusher holds c and runs it to its end: wait
				// for that instead of taking slots and empty queues
				// until it is done.
				<-c.done
				return c.res, c.err
			}
		case <-ctx.Done():
			if g.withdraw(c) {
				var zero Res
				return zero, ctx.Err()
			}
			<-c.done
			return c.res, c.err
		}
	}
}

// flushUntil runs batches from the queue until c is done, or reports
// that another flusher took c (the queue ran dry before c was done).
func (g *groupCommit[Req, Res]) flushUntil(c *groupCall[Req, Res]) (takenByOther bool) {
	for {
		select {
		case <-c.done:
			return false
		default:
		}
		batch := g.take()
		if len(batch) == 0 {
			g.emptyTakes.Add(1)
			return true
		}
		g.run(batch)
	}
}

// take removes up to limit queued calls.
func (g *groupCommit[Req, Res]) take() []*groupCall[Req, Res] {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.pending), g.limit)
	batch := slices.Clone(g.pending[:n])
	g.pending = slices.Delete(g.pending, 0, n)
	return batch
}

// withdraw removes c from the queue; false means a flusher has it.
func (g *groupCommit[Req, Res]) withdraw(c *groupCall[Req, Res]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.pending, c); i >= 0 {
		g.pending = slices.Delete(g.pending, i, i+1)
		return true
	}
	return false
}

// run executes a batch and completes its calls.
func (g *groupCommit[Req, Res]) run(batch []*groupCall[Req, Res]) {
	live := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	reqs := make([]Req, len(live))
	for i, c := range live {
		reqs[i] = c.req
	}
	res, err := g.exec(ctx, reqs)
	if err != nil && len(live) > 1 && !errors.Is(err, ports.ErrUnavailable) {
		for _, c := range live {
			g.runOne(ctx, c)
		}
		return
	}
	for i, c := range live {
		if err != nil {
			c.err = err
		} else {
			c.res = res[i]
		}
		close(c.done)
	}
}

func (g *groupCommit[Req, Res]) runOne(ctx context.Context, c *groupCall[Req, Res]) {
	res, err := g.exec(ctx, []Req{c.req})
	if err == nil {
		c.res = res[0]
	}
	c.err = err
	close(c.done)
}

// batchContext lasts as long as the most patient caller of the batch
// would wait, and is not cancelled with any one of them: once taken, a
// request runs to its end so that its caller learns whether it applied.
func batchContext[Req, Res any](batch []*groupCall[Req, Res]) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range batch {
		dl, ok := c.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.WithoutCancel(c.ctx))
		}
		if dl.After(latest) {
			latest = dl
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}
