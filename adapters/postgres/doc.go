// Package postgres keeps Marquee's durable state in PostgreSQL with the
// pgvector extension: the catalog, user profiles, the hot interaction
// table, popularity, precomputed lists, item vectors (HNSW), analytics and
// the model registry, each a concrete type implementing its port.
//
// Open connects a pgx pool, applies the embedded migrations (goose, under
// a database-wide advisory lock, so that several nodes may start at once)
// and returns a DB whose accessors hand out the adapters. WithSchema puts
// the tables in a schema of their own; the vector type stays with the
// extension in public, which every connection's search_path includes.
//
// # Errors
//
// Lookups of missing things wrap ports.ErrNotFound. Failures to reach the
// server, timeouts (context deadlines and statement_timeout) and server
// shutdowns wrap ports.ErrUnavailable, so that callers can degrade (the
// tier walk skips a tier) or retry (the consumer redelivers). Invalid
// input wraps domain.ErrInvalid.
//
// # Bulk writes
//
// Writes that carry many rows (PutTrained, BatchStore.PutAll, item vectors)
// stream them with binary COPY into a temporary table and merge them with
// one upsert in the same transaction; smaller multi-row writes (catalog,
// analytics) send parallel arrays to one INSERT ... SELECT FROM unnest.
// Either way a call is a constant number of round trips.
package postgres
