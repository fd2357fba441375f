// Package memory implements every port in process memory. It is the
// embedded default (`make run` with no configuration) and the fast backend
// of unit tests, so it is held to the same contract suites (ports/porttest)
// as the PostgreSQL, Redis and Kafka adapters: concurrency-safe, and
// copying values in and out so callers never share storage with it.
package memory
