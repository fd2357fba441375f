// Package porttest holds one contract test suite per port. Each suite is an
// exported function taking a *testing.T and a factory for a fresh, isolated
// implementation; it is run against the in-memory adapter and the real one,
// so that the embedded mode and production behave the same way and a
// behaviour the core relies on is written down once, as a test, next to the
// port that promises it.
//
// The suites only use the port interfaces and the domain types, never an
// adapter's internals, and they wait for conditions with generous timeouts
// instead of sleeping, so that they stay meaningful and stable against
// networked implementations.
package porttest
