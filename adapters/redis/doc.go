// Package redis implements ports.RecommendationCache on Redis (go-redis v9):
// tier 1 of the serving walk, shared by every Marquee node.
//
// # Keys
//
// Each user has two kinds of keys, both carrying the user id as a Redis
// Cluster hash tag so that they live in one slot and a Lua script may touch
// both:
//
//	<prefix>:gen:{<user>}        the user's generation (a decimal integer)
//	<prefix>:rec:{<user>}:<gen>  the cached list computed at that generation
//
// The prefix (WithPrefix, default "marquee") namespaces deployments and
// tests sharing one Redis.
//
// # Generations, and why invalidation is race-free
//
// Every operation is one Lua script, so it runs atomically on the server:
//
//   - Get reads the generation and the list stored under it (one round
//     trip) and returns the generation even on a miss. A user without a
//     generation key gets one, seeded from the server clock (below).
//   - Put stores the list under <gen> only if the generation key still
//     holds exactly the caller's generation.
//   - Invalidate deletes the list of the current generation and moves to
//     the next one (INCR): O(1), whatever the list's size.
//
// A list computed before an Invalidate carries a generation read before it.
// If its Put ran before the Invalidate, the Invalidate deleted it and no
// reader looks under that generation again; if its Put runs after, the
// generation no longer matches and nothing is stored. So a list computed
// before an Invalidate is never served after it returns, which is the
// port's contract; the contract suite and the tests of this package check
// it under concurrency.
//
// This holds as long as a (user, generation) pair never comes back. INCR
// alone would not guarantee that once generation keys can disappear: they
// expire (idle users must not keep keys forever), Redis may evict them
// under memory pressure, an operator may delete them. A counter restarting
// at 0 would, after a few invalidations, reach a generation for which an
// old list key still lives, or for which a slow caller still holds a list
// computed long ago. So a missing generation is never re-created from a
// constant: the scripts seed it from the server clock in microseconds
// (TIME). That exceeds every generation the user had before, because the
// old one started from an earlier reading of the clock and advanced by one
// per Invalidate, and one script takes Redis several microseconds. Hence
// generations only grow, and whatever expires or is evicted, no stale list
// is reachable and no stale Put lands. The assumption is that the Redis
// server's clock does not step back; a failover to a replica with a lagging
// clock, or one that loses acknowledged writes, can break it, as it can
// break any cache on asynchronous replication.
//
// TTLs only bound memory. A generation key lives WithGenerationTTL (default
// 7 days) after its creation or the user's last Invalidate or Put, and at
// least as long as the list Put under it, so a live list is never orphaned
// by its generation key expiring first. A list lives for the TTL given to
// Put. Redis thus holds one small generation key (about 100 bytes) per user
// served within the generation TTL, plus the lists still alive.
//
// # Encoding
//
// Lists are stored in a compact binary format whose first byte is its
// version (see codec.go). For a 100-item list it is half the size of JSON,
// encodes several times and decodes tens of times faster (BenchmarkCodec),
// and decoding allocates only the item slice: ids and titles are
// substrings of the reply. A value this version cannot decode (a newer
// format written during a rolling upgrade, or garbage) is logged and
// treated as a miss, so the walk recomputes the list and Put overwrites it.
//
// # Failures
//
// A miss returns ports.ErrNotFound with the generation. Connection errors,
// timeouts and Redis being busy, loading or read-only wrap
// ports.ErrUnavailable, so the walk skips the tier; a canceled context is
// returned as such. The defaults are short (200 ms to dial, 50 ms to read
// or write, no retries) because the walk gives a tier 250 ms and a Redis
// that is down must cost little: a refused connection fails at once, and
// after as many failed dials as the pool has connections go-redis fails
// fast until a background probe (once a second) reaches Redis again, after
// which the cache recovers by itself. The context's deadline is honored
// too.
//
// # Running it locally
//
// deploy/local/redis.sh installs (Debian apt) and starts Redis on
// 127.0.0.1:6379 without persistence. The tests use the Redis at
// MARQUEE_TEST_REDIS_URL (default redis://127.0.0.1:6379/0), each test
// under its own key prefix, removed afterwards; without Redis they skip,
// except under CI=true where they fail. The outage test starts its own
// redis-server on a free loopback port. Benchmarks:
//
//	go test -run='^$' -bench=. -benchmem -count=5 ./adapters/redis/
package redis
