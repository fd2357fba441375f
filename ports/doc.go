// Package ports declares the small interfaces Marquee's core needs from the
// outside world, each named for what the core does with it. Adapters in
// adapters/<technology> implement them; adapters/memory implements all of
// them for the embedded mode and unit tests, and ports/porttest holds the
// one contract suite per port that every implementation must pass.
//
// Every method that may do I/O takes a context first. Errors that callers
// branch on are the sentinels below, matched with errors.Is.
package ports

import "errors"

// Sentinel errors shared by all adapters.
var (
	// ErrNotFound means the thing asked for does not exist (a cache miss,
	// an unknown movie, a user without batch recommendations).
	ErrNotFound = errors.New("not found")
	// ErrUnavailable means the backing service cannot be reached now; the
	// caller may degrade (skip a tier) or retry later.
	ErrUnavailable = errors.New("service unavailable")
	// ErrStaleModel means a write computed from a model that is no longer
	// the serving one was refused: the writer must switch to the serving
	// model and compute again.
	ErrStaleModel = errors.New("computed from a model that is not the serving one")
)
