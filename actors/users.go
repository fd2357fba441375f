package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
)

// usersActor routes messages to user actors, spawning one on the first
// message for a user. Passivation is coordinated here so that no message
// is lost: when an idle user actor asks to stop, it is poisoned (it first
// drains its mailbox), and messages for that user that arrive meanwhile
// are held until it has terminated, then delivered to a fresh actor that
// reloads the state from the ports. Two actors never run for one user.
//
// Idleness is tracked here, from the last message routed to each user,
// rather than with Proto.Actor's receive timeout: that timer fires on its
// own goroutine and races with message processing (go test -race reports
// it inside the library).
type usersActor struct {
	env      *env
	active   map[domain.UserID]*actor.PID
	lastSeen map[domain.UserID]time.Time
	owner    map[string]domain.UserID // child PID id → user
	stopping map[domain.UserID][]pendingMsg
	seq      uint64
	stopTick chan struct{}
	// stopping is set once the router itself is stopping: its children
	// then terminate because of that, not because they failed.
	shuttingDown bool
}

type pendingMsg struct {
	msg    any
	sender *actor.PID
}

func newUsersActor(e *env) *usersActor {
	return &usersActor{
		env:      e,
		active:   map[domain.UserID]*actor.PID{},
		lastSeen: map[domain.UserID]time.Time{},
		owner:    map[string]domain.UserID{},
		stopping: map[domain.UserID][]pendingMsg{},
	}
}

// Receive implements actor.Actor.
func (a *usersActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.startTicker(c)
	case *actor.Stopping, *actor.Restarting:
		a.shuttingDown = true
		close(a.stopTick)
	case userMessage:
		u := m.user()
		if buf, ok := a.stopping[u]; ok {
			a.stopping[u] = append(buf, pendingMsg{msg: m, sender: c.Sender()})
			return
		}
		a.lastSeen[u] = time.Now()
		c.Forward(a.child(c, u))
	case *sweep:
		idleSince := time.Now().Add(-a.env.cfg.PassivateAfter)
		for u, pid := range a.active {
			if a.lastSeen[u].Before(idleSince) {
				// Poison, not Stop: the actor first handles what is
				// already in its mailbox.
				delete(a.active, u)
				delete(a.lastSeen, u)
				a.stopping[u] = nil
				c.Poison(pid)
			}
		}
	case *actor.Terminated:
		u, ok := a.owner[m.Who.Id]
		if !ok {
			return
		}
		delete(a.owner, m.Who.Id)
		if pid := a.active[u]; pid != nil && pid.Equal(m.Who) {
			delete(a.active, u)
			delete(a.lastSeen, u)
			if !a.shuttingDown {
				// Stopped by its supervisor after repeated failures.
				a.env.Logger.Error("user actor stopped after repeated failures", "user_id", u)
			}
		}
		if buf, ok := a.stopping[u]; ok {
			delete(a.stopping, u)
			for _, p := range buf {
				c.RequestWithCustomSender(a.child(c, u), p.msg, p.sender)
			}
		}
	}
}

// child returns the user's actor, spawning it if needed. Names carry a
// sequence number so a new incarnation never collides with one that is
// still being torn down.
func (a *usersActor) child(c actor.Context, u domain.UserID) *actor.PID {
	if pid := a.active[u]; pid != nil {
		return pid
	}
	a.seq++
	props := actor.PropsFromProducer(func() actor.Actor { return newUserActor(u, a.env) })
	pid, err := c.SpawnNamed(props, fmt.Sprintf("%s~%d", u, a.seq))
	if err != nil {
		// Unreachable with unique names; fall back to an anonymous child.
		pid = c.Spawn(props)
	}
	a.active[u] = pid
	a.owner[pid.Id] = u
	return pid
}

// startTicker sends sweep every quarter of the idle timeout, so an actor
// is passivated between 1 and 1.25 timeouts after its last message.
func (a *usersActor) startTicker(c actor.Context) {
	a.stopTick = make(chan struct{})
	every := max(a.env.cfg.PassivateAfter/4, time.Millisecond)
	root, self, stop := c.ActorSystem().Root, c.Self(), a.stopTick
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				root.Send(self, &sweep{})
			case <-stop:
				return
			}
		}
	}()
}
