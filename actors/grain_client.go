package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"

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
	cl    *cluster.Cluster
	root  *actor.RootContext
	owner *ownership
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
		pid := g.pid(kind, identity, min(left, activateTimeout))
		if pid == nil {
			lastErr = errors.New("no member owns it yet")
		} else {
			res, err := g.ask(pid, msg, min(left, perTry))
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

// errMemberLeft means the member running the grain left the cluster while
// it was being asked.
var errMemberLeft = errors.New("the grain's member left the cluster")

// ask asks pid and waits for the answer, but gives up as soon as the
// topology says pid's member left: a request to a member that died gets
// no answer, only its timeout, and the caller would wait all of it.
func (g *grainClient) ask(pid *actor.PID, msg any, timeout time.Duration) (any, error) {
	type answer struct {
		res any
		err error
	}
	f := g.root.RequestFuture(pid, msg, timeout)
	done := make(chan answer, 1)
	go func() {
		res, err := f.Result()
		done <- answer{res, err}
	}()
	for {
		changed := g.owner.watch()
		if pid.Address != g.root.ActorSystem().Address() && !g.owner.isMember(pid.Address) {
			return nil, errMemberLeft
		}
		select {
		case a := <-done:
			return a.res, a.err
		case <-changed:
		}
	}
}

// activateTimeout bounds one activation request to the owner's placement
// actor. disthash's own lookup (Cluster.Get) waits a fixed 5 s, which is
// what a request stuck on a member that just died would cost; the
// placement actor answers at once (the grain starts asynchronously), so a
// short bound only makes a dead owner cost less before the next try.
const activateTimeout = time.Second

// pid returns the activation's PID: cached, or asked from the placement
// actor of the member that owns the identity under the latest topology,
// which activates the grain if needed (the request disthash's lookup
// makes, with our bound); nil when no member is known yet or the owner
// did not answer.
func (g *grainClient) pid(kind, identity string, timeout time.Duration) *actor.PID {
	if pid, ok := g.cl.PidCache.Get(identity, kind); ok && pid != nil {
		return pid
	}
	ci := cluster.NewClusterIdentity(identity, kind)
	owner := g.owner.ownerOf(ci)
	if owner == "" {
		return nil
	}
	res, err := g.root.RequestFuture(actor.NewPID(owner, disthash.PartitionActivatorActorName),
		&cluster.ActivationRequest{ClusterIdentity: ci}, timeout).Result()
	if err != nil {
		return nil
	}
	r, ok := res.(*cluster.ActivationResponse)
	if !ok || r.Pid == nil {
		return nil
	}
	g.cl.PidCache.Set(identity, kind, r.Pid)
	return r.Pid
}
