package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Realm is the realm of the WWW-Authenticate challenges.
const Realm = "marquee"

// Options configure a Guard.
type Options struct {
	// Keys are the configured keys. With none, the guard is open: every
	// operation may be called without a key (limited per client address).
	Keys []Key
	// Limit is the rate limit of each key without one of its own, and of
	// each client address for requests that need no key.
	Limit Limit
	// MaxAddrs bounds the client addresses tracked (DefaultMaxAddrs).
	MaxAddrs int
	// Now is the clock (time.Now); tests inject one.
	Now func() time.Time
}

// Guard authenticates and rate-limits the operations of a Huma API.
type Guard struct {
	keys    *Keyring
	buckets map[string]*keyBucket // by key name
	addrs   *AddrLimiter
	now     func() time.Time

	needs sync.Map // *huma.Operation → requirement
}

// NewGuard builds a guard from o.
func NewGuard(o Options) (*Guard, error) {
	keys, err := NewKeyring(o.Keys...)
	if err != nil {
		return nil, err
	}
	g := &Guard{keys: keys, buckets: map[string]*keyBucket{}, addrs: NewAddrLimiter(o.Limit, o.MaxAddrs), now: o.Now}
	if g.now == nil {
		g.now = time.Now
	}
	for _, k := range o.Keys {
		l := o.Limit
		if k.Limit != nil {
			l = *k.Limit
		}
		g.buckets[k.Name] = &keyBucket{limit: l}
	}
	return g, nil
}

// Open reports whether the guard lets every operation through without a
// key (no keys are configured).
func (g *Guard) Open() bool { return g.keys.Len() == 0 }

// requirement is what an operation needs: nothing (public), or a key
// holding every scope of at least one of anyOf. An alternative that names
// a scope this package does not know can never be met.
type requirement struct {
	public bool
	anyOf  []Scope
}

// requirementOf reads op's security requirement (the document's when op
// has none of its own, as OpenAPI specifies): an empty list, or an empty
// alternative, is public; otherwise the roles each alternative lists.
func requirementOf(api huma.API, op *huma.Operation) requirement {
	sec := op.Security
	if sec == nil {
		sec = api.OpenAPI().Security
	}
	if len(sec) == 0 {
		return requirement{public: true}
	}
	var r requirement
	for _, alt := range sec {
		if len(alt) == 0 {
			return requirement{public: true}
		}
		var s Scope
		known := true
		for _, roles := range alt {
			for _, role := range roles {
				one, err := ParseScope(role)
				known = known && err == nil
				s |= one
			}
		}
		if known && !slices.Contains(r.anyOf, s) {
			r.anyOf = append(r.anyOf, s)
		}
	}
	return r
}

func (r requirement) allows(s Scope) bool {
	for _, need := range r.anyOf {
		if s.Has(need) {
			return true
		}
	}
	return false
}

func (r requirement) String() string {
	if len(r.anyOf) == 0 {
		return "a scope no key can hold"
	}
	names := make([]string, len(r.anyOf))
	for i, s := range r.anyOf {
		names[i] = s.String()
	}
	return strings.Join(names, " or ")
}

// Middleware returns the Huma middleware that guards api's operations.
// Register it before the operations (Huma builds each operation's chain
// when it is registered). A public operation, or any in open mode, is
// limited per client address; otherwise the request must carry a key
// (Authorization: Bearer, or X-API-Key): 401 without a valid one, 429 past
// the key's rate limit, 403 when the key lacks the scope the operation
// needs. Requests with an invalid key also count against their client
// address, so guessing is rate-limited too. Every refusal is an RFC 9457
// problem document. The operation learns the scopes granted from Granted.
func (g *Guard) Middleware(api huma.API) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		r, ok := g.needs.Load(op)
		if !ok {
			r, _ = g.needs.LoadOrStore(op, requirementOf(api, op))
		}
		need := r.(requirement)
		now := g.now()
		if need.public || g.Open() {
			if wait, ok := g.addrs.Take(ClientAddr(ctx.RemoteAddr()), now); !ok {
				tooMany(api, ctx, wait, "this client address")
				return
			}
			next(withGranted(ctx, g.publicGrant(ctx)))
			return
		}
		secret, sent := credential(ctx)
		key, found := g.keys.Lookup(secret)
		if !found {
			if wait, ok := g.addrs.Take(ClientAddr(ctx.RemoteAddr()), now); !ok {
				tooMany(api, ctx, wait, "this client address")
				return
			}
			unauthorized(api, ctx, sent)
			return
		}
		b := g.buckets[key.Name]
		if wait, ok := b.take(now); !ok {
			tooMany(api, ctx, wait, fmt.Sprintf("key %q (%s requests/s, burst %d)",
				key.Name, strconv.FormatFloat(b.limit.Rate, 'g', -1, 64), b.limit.Burst))
			return
		}
		if !need.allows(key.Scopes) {
			forbidden(api, ctx, need, key)
			return
		}
		next(withGranted(ctx, key.Scopes))
	}
}

// grantedKey is the request context's key of the scopes the guard granted.
type grantedKey struct{}

func withGranted(ctx huma.Context, s Scope) huma.Context {
	return huma.WithValue(ctx, grantedKey{}, s)
}

// Granted returns the scopes the guard granted the request whose context
// ctx is: every scope in open mode (everything is open there), otherwise
// those of the valid API key the request carried, on a public operation
// too, and none without one. A public operation uses it to show an
// operator more than anyone (/readyz says why a dependency is down only
// to a key with the admin scope). Outside the guard it is none.
func Granted(ctx context.Context) Scope {
	s, _ := ctx.Value(grantedKey{}).(Scope)
	return s
}

// publicGrant is what a request to a public operation may see: a key it
// carries is looked up, but a missing or unknown one is no refusal (a
// probe needs none); it only grants nothing.
func (g *Guard) publicGrant(ctx huma.Context) Scope {
	if g.Open() {
		return AllScopes
	}
	secret, sent := credential(ctx)
	if !sent {
		return 0
	}
	key, found := g.keys.Lookup(secret)
	if !found {
		return 0
	}
	return key.Scopes
}

// credential is the key a request carries: the bearer token of
// Authorization, else X-API-Key. sent reports whether it carried either
// header (an Authorization of another scheme counts as a bad key).
func credential(ctx huma.Context) (secret string, sent bool) {
	if h := ctx.Header("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		return strings.TrimSpace(token), true
	}
	if h := ctx.Header(HeaderAPIKey); h != "" {
		return strings.TrimSpace(h), true
	}
	return "", false
}

// The details of the refusals; the documentation's examples use them too.
const (
	DetailMissingKey = "this operation needs an API key: send it as Authorization: Bearer <key> or X-API-Key: <key>"
	DetailInvalidKey = "the API key is not valid"
)

// DetailForbidden is the detail of a 403.
func DetailForbidden(key string, has Scope, need string) string {
	return fmt.Sprintf("key %q (scopes: %s) lacks the scope this operation needs: %s", key, has, need)
}

// DetailTooMany is the detail of a 429.
func DetailTooMany(who string, retryAfter int) string {
	return fmt.Sprintf("rate limit of %s exceeded; retry in %d s", who, retryAfter)
}

func unauthorized(api huma.API, ctx huma.Context, sent bool) {
	challenge := `Bearer realm="` + Realm + `"`
	detail := DetailMissingKey
	if sent {
		challenge += `, error="invalid_token"`
		detail = DetailInvalidKey
	}
	ctx.SetHeader("WWW-Authenticate", challenge)
	_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, detail)
}

func forbidden(api huma.API, ctx huma.Context, need requirement, key Key) {
	scope := ""
	if len(need.anyOf) > 0 {
		scope = strings.Join(need.anyOf[0].Names(), " ")
	}
	ctx.SetHeader("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope", scope="`+scope+`"`)
	_ = huma.WriteErr(api, ctx, http.StatusForbidden, DetailForbidden(key.Name, key.Scopes, need.String()))
}

func tooMany(api huma.API, ctx huma.Context, wait time.Duration, who string) {
	secs := RetryAfter(wait)
	ctx.SetHeader("Retry-After", strconv.Itoa(secs))
	_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, DetailTooMany(who, secs))
}
