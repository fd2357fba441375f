// Package domain holds Marquee's core vocabulary: validated identifiers,
// interaction events and their implicit-feedback weights, movies,
// recommendation lists and the tiers that serve them, and the time-decayed
// popularity model. It is pure Go and imports nothing else from the project,
// so every rule here is testable without a database, a broker or an actor.
package domain
