package auth

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is the shape of a token bucket: Rate requests a second on
// average, up to Burst at once. The zero Limit is no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Unlimited reports whether l lets everything through.
func (l Limit) Unlimited() bool { return l.Rate <= 0 }

// String is the configuration's form: "off", or "rate/burst".
func (l Limit) String() string {
	if l.Unlimited() {
		return "off"
	}
	return strconv.FormatFloat(l.Rate, 'g', -1, 64) + "/" + strconv.Itoa(l.Burst)
}

// ParseLimit reads "off", "rate" or "rate/burst": requests per second
// (a positive number; 0.5 is one every two seconds) and the most that may
// come at once (a positive integer; default twice the rate, at least 1).
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return Limit{}, nil
	}
	rs, bs, hasBurst := strings.Cut(s, "/")
	rate, err := strconv.ParseFloat(strings.TrimSpace(rs), 64)
	if err != nil || rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return Limit{}, fmt.Errorf("want off, or requests per second (a positive number) with an optional /burst, got %q", s)
	}
	l := Limit{Rate: rate, Burst: max(1, int(math.Min(2*rate, math.MaxInt32)))}
	if hasBurst {
		b, err := strconv.Atoi(strings.TrimSpace(bs))
		if err != nil || b < 1 {
			return Limit{}, fmt.Errorf("burst must be a positive integer, got %q", bs)
		}
		l.Burst = b
	}
	return l, nil
}

// bucket is a token bucket. Its tokens are computed lazily from the time
// of its last use, so an idle bucket costs nothing.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one token at now under limit l, or reports how long until
// there will be one. A new bucket starts full.
func (b *bucket) take(l Limit, now time.Time) (wait time.Duration, ok bool) {
	if l.Unlimited() {
		return 0, true
	}
	switch {
	case b.last.IsZero():
		b.tokens = float64(l.Burst)
		b.last = now
	case now.After(b.last):
		b.tokens = math.Min(float64(l.Burst), b.tokens+now.Sub(b.last).Seconds()*l.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.Rate * float64(time.Second)), false
}

// full reports whether b would be full at now, in which case forgetting
// it changes nothing: a new bucket starts full.
func (b *bucket) full(l Limit, now time.Time) bool {
	return b.tokens+now.Sub(b.last).Seconds()*l.Rate >= float64(l.Burst)
}

// keyBucket is the bucket of one configured key.
type keyBucket struct {
	mu    sync.Mutex
	b     bucket
	limit Limit
}

func (k *keyBucket) take(now time.Time) (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.b.take(k.limit, now)
}

// DefaultMaxAddrs is how many client addresses AddrLimiter tracks at once.
const DefaultMaxAddrs = 1 << 16

// sweepEvery is how often AddrLimiter forgets idle buckets.
const sweepEvery = time.Minute

// AddrLimiter limits requests per client address, in bounded memory: it
// forgets buckets that have refilled (they are equivalent to new ones),
// and past its capacity it forgets an arbitrary one, which can only make
// it more lenient to that client, never lock anyone out.
type AddrLimiter struct {
	limit Limit
	max   int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

// NewAddrLimiter limits each client address to l, tracking at most
// maxAddrs of them (DefaultMaxAddrs when maxAddrs <= 0).
func NewAddrLimiter(l Limit, maxAddrs int) *AddrLimiter {
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxAddrs
	}
	return &AddrLimiter{limit: l, max: maxAddrs, buckets: map[string]*bucket{}}
}

// Take spends one token of addr's bucket at now, or reports how long
// until there will be one.
func (a *AddrLimiter) Take(addr string, now time.Time) (time.Duration, bool) {
	if a.limit.Unlimited() {
		return 0, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.buckets[addr]
	if b == nil {
		if now.Sub(a.lastSweep) >= sweepEvery || len(a.buckets) >= a.max {
			a.sweep(now)
		}
		for k := range a.buckets { // map order is random
			if len(a.buckets) < a.max {
				break
			}
			delete(a.buckets, k)
		}
		b = &bucket{}
		a.buckets[addr] = b
	}
	return b.take(a.limit, now)
}

func (a *AddrLimiter) sweep(now time.Time) {
	a.lastSweep = now
	for k, b := range a.buckets {
		if b.full(a.limit, now) {
			delete(a.buckets, k)
		}
	}
}

// Tracked is how many client addresses have a bucket now.
func (a *AddrLimiter) Tracked() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buckets)
}

// ClientAddr is the rate-limited identity of a connection's remote
// address ("host:port"): the IP, or for IPv6 its /64 network, since one
// client commonly holds a whole /64. It is the address of the TCP peer:
// behind a reverse proxy every client shares the proxy's, so there the
// per-key limits are the ones that count.
func ClientAddr(remote string) string {
	host := remote
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		host = ap.Addr().String()
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// RetryAfter is the Retry-After value of a wait: whole seconds, rounded
// up, at least 1.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
