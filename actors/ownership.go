package actors

import (
	"fmt"
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/cluster"
)

// ownership tells whether this member owns a grain identity under the
// latest topology it has seen, by the same rendezvous hash disthash
// places grains with.
//
// disthash's placement actor activates whatever it is asked to, even when
// the asker's topology is stale and another member owns the identity, and
// it only re-checks its activations when the topology changes again. So
// while members join or leave, one identity can end up active on two
// members and stay so. Marquee's grains check ownership themselves and
// stop when they are not the owner: a user grain after answering, a
// singleton before it acts (the scheduler checks again when it fires).
type ownership struct {
	mu      sync.RWMutex
	rdv     *cluster.Rendezvous
	members []*cluster.Member
	self    func() string
	// changed is closed (and replaced) on every topology change, so that
	// callers waiting on a member can notice it left.
	changed chan struct{}
}

func newOwnership(cl *cluster.Cluster) *ownership {
	o := &ownership{self: cl.ActorSystem.Address, changed: make(chan struct{})}
	cl.ActorSystem.EventStream.Subscribe(func(ev any) {
		t, ok := ev.(*cluster.ClusterTopology)
		if !ok {
			return
		}
		r := cluster.NewRendezvous()
		r.UpdateMembers(t.Members)
		o.mu.Lock()
		o.rdv, o.members = r, t.Members
		close(o.changed)
		o.changed = make(chan struct{})
		o.mu.Unlock()
	})
	return o
}

// watch returns a channel closed at the next topology change.
func (o *ownership) watch() <-chan struct{} {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.changed
}

// isMember reports whether addr is a member under the latest topology
// (true before any topology is known).
func (o *ownership) isMember(addr string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.rdv == nil {
		return true
	}
	for _, m := range o.members {
		if m.Address() == addr {
			return true
		}
	}
	return false
}

// ownerOf is the address of the member that owns ci, "" when no topology
// or no member of its kind is known yet.
func (o *ownership) ownerOf(ci *cluster.ClusterIdentity) string {
	o.mu.RLock()
	r := o.rdv
	o.mu.RUnlock()
	if r == nil {
		return ""
	}
	return r.GetByClusterIdentity(ci)
}

// owns reports whether this member owns kind/identity. Without a topology
// yet, or with no member of that kind, it says yes: there is no better
// place.
func (o *ownership) owns(kind, identity string) bool {
	if o == nil {
		return true
	}
	o.mu.RLock()
	r := o.rdv
	o.mu.RUnlock()
	if r == nil {
		return true
	}
	addr := r.GetByClusterIdentity(cluster.NewClusterIdentity(identity, kind))
	return addr == "" || addr == o.self()
}

// identityOn returns an identity of kind owned by the i-th member that
// hosts the kind (in address order, modulo their number): "shard-i-j" for
// the first j that hashes there. Training blocks go to such identities so
// that they spread over the members instead of wherever the hash of
// "shard-i" lands. It reports false before any topology is known.
func (o *ownership) identityOn(kind string, i int) (string, bool) {
	if o == nil {
		return "", false
	}
	o.mu.RLock()
	r, members := o.rdv, o.members
	o.mu.RUnlock()
	var addrs []string
	for _, m := range members {
		if m.HasKind(kind) {
			addrs = append(addrs, m.Address())
		}
	}
	if r == nil || len(addrs) == 0 {
		return "", false
	}
	slices.Sort(addrs)
	target := addrs[i%len(addrs)]
	for j := range 10_000 {
		id := fmt.Sprintf("%s-%d-%d", kind, i, j)
		if r.GetByClusterIdentity(cluster.NewClusterIdentity(id, kind)) == target {
			return id, true
		}
	}
	return fmt.Sprintf("%s-%d", kind, i), true
}
