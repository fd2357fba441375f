// Package kafka carries Marquee's interaction events over Kafka with
// franz-go: a Publisher for the HTTP edge, a Consumer that feeds the user
// actors, EnsureTopic for deployment, and an Embedded in-process broker
// (franz-go's kfake) for the zero-configuration mode and tests.
//
// # Wire format
//
// One record per domain.Interaction. The key is the user id, so the default
// key partitioner puts all of a user's events in one partition, where Kafka
// keeps them in produce order. The value is a JSON object carrying a schema
// version, {"v":1,"event_id":…,"user_id":…,"movie_id":…,"type":…,
// "value":…,"weight":…,"ts":…,"rec_log_id":…,"ingested_at":…}, with times in
// RFC 3339 (nanosecond precision, UTC). Decode is strict (unknown fields,
// unknown versions, invalid ids or types and non-finite numbers are
// rejected) so a producer bug is noticed at the first record instead of
// corrupting user profiles. A consumer skips, logs and counts a record it
// cannot decode: one bad record must never block its partition.
//
// # Delivery guarantees
//
// Publish returns nil only when every record is acknowledged by all in-sync
// replicas of an idempotent producer, so an accepted event survives a broker
// failure and a producer retry cannot duplicate or reorder it. Failures wrap
// ports.ErrUnavailable and surface within the delivery timeout, so the HTTP
// edge can answer 503 instead of hanging.
//
// The Consumer gives at-least-once delivery, per user in order: offsets are
// committed only after the handler returned nil for the whole polled batch,
// a failing batch is retried in place with exponential backoff, and a batch
// that was never committed is delivered again to the next member of the
// group. Rebalances are blocked while a batch is being handled and offsets
// are committed before they are allowed, so a partition changes owner only
// at a committed position. Handlers make redelivery harmless by storing
// idempotently (events carry EventID).
package kafka
