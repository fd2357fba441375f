// Package parquet implements ports.Archive as Apache Parquet files
// (Apache Arrow's Go parquet package, low-level file API) in any
// ports.ObjectStore: MinIO or S3 (adapters/s3) in production, a local
// directory (adapters/localfs) in the embedded mode.
//
// # Layout
//
// Every file holds the interactions of one UTC day, in (ts, event_id)
// order, under a Hive-style partition, so Spark, DuckDB or pyarrow read
// the archive as one dataset partitioned by date:
//
//	[prefix/]interactions/date=2026-03-14/part-<uuid v7>.parquet
//
// A file is written once and never modified. Which files count is the
// manifest's business (ports.ArchiveLedger), not the listing's: a file of
// a run that crashed before its commit is an orphan that readers never
// see and the archiver's cleanup deletes.
//
// # Schema (version 1)
//
//	column       physical    logical                 null
//	event_id     BYTE_ARRAY  STRING                  required  idempotency key, unique
//	user_id      BYTE_ARRAY  STRING                  required
//	movie_id     BYTE_ARRAY  STRING                  required
//	event_type   BYTE_ARRAY  STRING                  required  view, click, like, dislike, rating, watch_complete, add_to_list
//	value        DOUBLE                              optional  the rating, or a measure the event carried
//	weight       DOUBLE                              required  implicit-feedback weight as computed at ingest
//	ts           INT64       TIMESTAMP(MICROS, UTC)  required  event time
//	rec_log_id   BYTE_ARRAY  STRING                  optional  the served list the event came from
//	ingested_at  INT64       TIMESTAMP(MICROS, UTC)  required  when Marquee stored it
//
// The key-value metadata carries marquee.schema ("1") and marquee.day.
// Compression is zstd (WithSnappy for Snappy); users, movies, types,
// values and weights are dictionary-encoded, timestamps delta-encoded,
// event ids plain. Row groups hold up to 131072 rows.
//
// # Reading
//
// Decode reads only the columns the caller selects (ports.Field; the
// training loader reads five of nine), one row group at a time through
// ranged reads of those column chunks, so memory is bounded by a row
// group whatever the file's size. Everything it reads is checked: a file
// that is truncated, not Parquet, missing a column, of another type, or
// holding a value no stored event can have (an unknown type, an empty id,
// a time before 1995, a NaN weight) gives an error wrapping
// ports.ErrCorrupt that names the problem; a failure of the storage keeps
// its own error (ports.ErrUnavailable). FuzzDecode exercises it.
//
// # Writing
//
// WriteDay encodes a chunk in memory (the archiver's chunks of 100K rows
// make a few megabytes), stores it with one Put (atomic and durable in
// every store), then reads it back from the store and compares size, row
// count and every field of every row before it returns: only then may the
// caller delete the rows from the hot table.
package parquet
