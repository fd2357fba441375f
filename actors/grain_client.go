package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/marquee-recsys/marquee/ports"
)

// grainClient calls grains by identity. It does not use the library's
// Cluster.Request/RequestFuture: RequestFuture applies call options to a
// package-level default config (one caller's timeout becomes every
// caller's, and it races), and neither lets a caller bound the whole call.
// Instead it resolves the PID (the PID cache, then the disthash lookup)
// and asks it, and when the grain's member died, the activation passivated
// or moved (a timeout, a dead letter), it forgets the PID and asks again
// until the deadline: every message sent to grains is idempotent (events
// carry ids, recommendations read), so a retry is safe.
type grainClient struct {
	cl   *cluster.Cluster
	root *actor.RootContext
}

// perTry bounds one attempt, so that a request to a member that just died
// is retried elsewhere before the caller's deadline.
const perTry = 3 * time.Second

func (g *grainClient) call(kind, identity string, msg any, timeout time.Duration) (any, error) {
	deadline := time.Now().Add(timeout)
	backoff := 10 * time.Millisecond
	var lastErr error
	for {
		left := time.Until(deadline)
		if left <= 0 {
			if lastErr == nil {
				lastErr = actor.ErrTimeout
			}
			return nil, fmt.Errorf("%s grain %s did not answer in %s: %w: %w", kind, identity, timeout, ports.ErrUnavailable, lastErr)
		}
		pid := g.pid(kind, identity)
		if pid == nil {
			lastErr = errors.New("no member owns it yet")
		} else {
			res, err := g.root.RequestFuture(pid, msg, min(left, perTry)).Result()
			if err == nil {
				return res, nil
			}
			lastErr = err
			g.cl.PidCache.RemoveByValue(identity, kind, pid)
		}
		time.Sleep(min(backoff, time.Until(deadline)))
		backoff = min(2*backoff, 250*time.Millisecond)
	}
}

// pid returns the activation's PID: cached, or from the identity lookup,
// which activates the grain on its owner if needed (nil when the owner
// does not answer or no member is known yet).
func (g *grainClient) pid(kind, identity string) *actor.PID {
	if pid, ok := g.cl.PidCache.Get(identity, kind); ok && pid != nil {
		return pid
	}
	pid := g.cl.Get(identity, kind)
	if pid != nil {
		g.cl.PidCache.Set(identity, kind, pid)
	}
	return pid
}
