package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.RecommendationCache = (*Cache)(nil)

// Cache is a ports.RecommendationCache on Redis. It is safe for concurrent
// use; every method is one round trip.
type Cache struct {
	client *goredis.Client
	prefix string
	genTTL time.Duration
	// genTTLArg is genTTL in milliseconds, boxed once for the scripts.
	genTTLArg any
	logger    *slog.Logger
}

// The scripts share their key arguments: KEYS[1] is the generation key and
// KEYS[2] the list key without its generation, to which the script appends
// the generation it read. KEYS[2] is not a key itself, but it carries the
// same hash tag as the list keys, so it routes the script to their slot.
//
// seed (inlined in each script) makes a generation for a user who has none:
// the server clock in microseconds, which is larger than any generation the
// user had before (see the package documentation). It is concatenated as
// strings because Lua numbers would print a 16-digit integer in exponent
// form. Generations are compared as the strings Redis stores: INCR and the
// seed both write canonical decimals, as does strconv.FormatUint.
const seedLua = `local function seed()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
`

// getScript returns {gen} on a miss and {gen, list} on a hit. A missing
// generation key is created (ARGV[1] is its TTL in ms), so that the
// generation handed to the caller can never be handed out again.
var getScript = goredis.NewScript(seedLua + `
local gen = redis.call('GET', KEYS[1])
if not gen then
  gen = seed()
  redis.call('SET', KEYS[1], gen, 'PX', ARGV[1])
  return {gen}
end
local list = redis.call('GET', KEYS[2] .. gen)
if not list then
  return {gen}
end
return {gen, list}
`)

// putScript stores ARGV[2] for ARGV[3] ms under generation ARGV[1] if that
// is still the user's generation (a TTL of 0 deletes the list instead), and
// keeps the generation key alive for ARGV[4] ms (at least the list's TTL),
// so that the list is never orphaned by its generation key expiring first.
// It returns 1 if it stored, 0 if the generation had moved.
var putScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local key = KEYS[2] .. ARGV[1]
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
else
  redis.call('DEL', key)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// invalidateScript deletes the current generation's list and moves to the
// next generation, whose TTL ARGV[1] (ms) restarts. Lists of older
// generations need no deletion: each was deleted when its generation was
// left, and no Put can store under a generation that is not current.
var invalidateScript = goredis.NewScript(seedLua + `
local gen = redis.call('GET', KEYS[1])
if gen then
  redis.call('DEL', KEYS[2] .. gen)
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], seed(), 'PX', ARGV[1])
end
return 1
`)

// forgetScript deletes the current generation's list and the generation
// key: the user's next Get seeds a new generation past every earlier one.
var forgetScript = goredis.NewScript(`
local gen = redis.call('GET', KEYS[1])
if gen then
  redis.call('DEL', KEYS[2] .. gen)
end
redis.call('DEL', KEYS[1])
return 1
`)

// New returns a Cache for the Redis at url (redis://[user:password@]host:port/db
// or rediss:// for TLS, as go-redis ParseURL reads it). It does no I/O:
// call Ping to check that Redis answers.
func New(url string, opts ...Option) (*Cache, error) {
	cfg := newConfig(opts)
	if cfg.prefix == "" || strings.ContainsAny(cfg.prefix, "{}") {
		return nil, fmt.Errorf("redis: key prefix %q must be non-empty and free of '{' and '}'", cfg.prefix)
	}
	ro, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	ro.DialTimeout = pick(cfg.dialTimeout, ro.DialTimeout, DefaultDialTimeout)
	ro.ReadTimeout = pick(cfg.readTimeout, ro.ReadTimeout, DefaultReadTimeout)
	ro.WriteTimeout = pick(cfg.writeTimeout, ro.WriteTimeout, DefaultWriteTimeout)
	ro.PoolSize = pick(cfg.poolSize, ro.PoolSize, 0)
	switch {
	case cfg.retriesSet && cfg.maxRetries == 0, !cfg.retriesSet && ro.MaxRetries == 0:
		ro.MaxRetries = -1 // go-redis reads 0 as "3 retries"
	case cfg.retriesSet:
		ro.MaxRetries = cfg.maxRetries
	}
	// One dial attempt per command: go-redis would otherwise retry a
	// refused dial 5 times, 100 ms apart, inside a single call.
	ro.DialerRetries = 1
	// Honor the caller's deadline (the walk's tier budget) in socket I/O.
	ro.ContextTimeoutEnabled = true
	// CLIENT SETINFO is unknown to Redis before 7.2; skip the round trip.
	ro.DisableIdentity = true
	return &Cache{
		client:    goredis.NewClient(ro),
		prefix:    cfg.prefix,
		genTTL:    cfg.genTTL,
		genTTLArg: cfg.genTTL.Milliseconds(),
		logger:    cfg.logger,
	}, nil
}

// pick returns the first non-zero of option, fromURL and def.
func pick[T comparable](option, fromURL, def T) T {
	var zero T
	switch {
	case option != zero:
		return option
	case fromURL != zero:
		return fromURL
	default:
		return def
	}
}

// Ping checks that Redis answers, for readiness probes and start-up.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.client.Ping(ctx).Err(); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close closes the connections. Calls after Close fail with
// ports.ErrUnavailable.
func (c *Cache) Close() error {
	return c.client.Close()
}

// keys returns the generation key and the list key without its generation
// in one allocation.
func (c *Cache) keys(user domain.UserID) (gen, listBase string) {
	s := c.prefix + ":gen:{" + string(user) + "}" + c.prefix + ":rec:{" + string(user) + "}:"
	n := len(c.prefix) + len(":gen:{}") + len(user)
	return s[:n], s[n:]
}

// Get implements ports.RecommendationCache.
func (c *Cache) Get(ctx context.Context, user domain.UserID) (domain.RecList, uint64, error) {
	genKey, listBase := c.keys(user)
	reply, err := getScript.Run(ctx, c.client, []string{genKey, listBase}, c.genTTLArg).Slice()
	if err != nil {
		return domain.RecList{}, 0, wrap("get", err)
	}
	if len(reply) == 0 || len(reply) > 2 {
		return domain.RecList{}, 0, fmt.Errorf("redis: get: unexpected reply %v", reply)
	}
	genStr, _ := reply[0].(string)
	gen, err := strconv.ParseUint(genStr, 10, 64)
	if err != nil {
		return domain.RecList{}, 0, fmt.Errorf("redis: get: generation %q of user %q: %w", genStr, user, err)
	}
	if len(reply) == 1 {
		return domain.RecList{}, gen, ports.ErrNotFound
	}
	payload, _ := reply[1].(string)
	list, err := decodeList(payload)
	if err != nil {
		// Treat it as a miss: the walk recomputes and Put overwrites it.
		c.logger.WarnContext(ctx, "ignoring undecodable cached list", "user_id", user, "bytes", len(payload), "err", err)
		return domain.RecList{}, gen, ports.ErrNotFound
	}
	return list, gen, nil
}

// Put implements ports.RecommendationCache. A ttl below a millisecond is
// rounded up to one; a ttl of zero or less drops the cached list.
func (c *Cache) Put(ctx context.Context, user domain.UserID, gen uint64, list domain.RecList, ttl time.Duration) error {
	ttlMS := ttl.Milliseconds()
	if ttl > 0 && ttlMS == 0 {
		ttlMS = 1
	}
	genMS := max(c.genTTL.Milliseconds(), ttlMS)
	genKey, listBase := c.keys(user)
	payload := encodeList(make([]byte, 0, encodedLen(list)), list)
	err := putScript.Run(ctx, c.client, []string{genKey, listBase},
		strconv.FormatUint(gen, 10), payload, max(ttlMS, 0), genMS).Err()
	if err != nil {
		return wrap("put", err)
	}
	return nil
}

// Invalidate implements ports.RecommendationCache.
func (c *Cache) Invalidate(ctx context.Context, user domain.UserID) error {
	genKey, listBase := c.keys(user)
	if err := invalidateScript.Run(ctx, c.client, []string{genKey, listBase}, c.genTTLArg).Err(); err != nil {
		return wrap("invalidate", err)
	}
	return nil
}

// Forget implements ports.RecommendationCache.
func (c *Cache) Forget(ctx context.Context, user domain.UserID) error {
	genKey, listBase := c.keys(user)
	if err := forgetScript.Run(ctx, c.client, []string{genKey, listBase}).Err(); err != nil {
		return wrap("forget", err)
	}
	return nil
}

// transientReplies are the prefixes of Redis error replies that mean "not
// now" rather than "this command is wrong".
var transientReplies = []string{"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "OOM", "NOREPLICAS"}

// wrap maps err to the port's errors: a canceled context stays what it is
// (the caller gave up), an error reply that is not transient is a bug or a
// misconfiguration (for example a foreign key of the wrong type under our
// prefix), and everything else (network errors, timeouts, a closed client,
// a busy or loading server) wraps ports.ErrUnavailable.
func wrap(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	var reply goredis.Error
	if errors.As(err, &reply) && !errors.Is(err, goredis.ErrClosed) {
		msg := strings.TrimPrefix(reply.Error(), "ERR ")
		transient := false
		for _, p := range transientReplies {
			if strings.HasPrefix(msg, p) {
				transient = true
				break
			}
		}
		if !transient {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
	}
	return fmt.Errorf("redis: %s: %w: %w", op, ports.ErrUnavailable, err)
}
