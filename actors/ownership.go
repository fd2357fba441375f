package actors

import (
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
	mu   sync.RWMutex
	rdv  *cluster.Rendezvous
	self func() string
}

func newOwnership(cl *cluster.Cluster) *ownership {
	o := &ownership{self: cl.ActorSystem.Address}
	cl.ActorSystem.EventStream.Subscribe(func(ev any) {
		t, ok := ev.(*cluster.ClusterTopology)
		if !ok {
			return
		}
		r := cluster.NewRendezvous()
		r.UpdateMembers(t.Members)
		o.mu.Lock()
		o.rdv = r
		o.mu.Unlock()
	})
	return o
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
