-- The archive's manifest: every Parquet file of interactions that counts.
-- A row is inserted in the same transaction that deletes the file's rows
-- from rt_user_interactions (InteractionLog.Commit), so every event is in
-- exactly one place; a file in storage without a row here is an orphan of
-- a crashed run, which readers ignore and the archiver's cleanup removes.

-- +goose Up
CREATE TABLE archive_manifest (
    key        text COLLATE "C" PRIMARY KEY,
    day        date NOT NULL,
    rows       integer NOT NULL CHECK (rows >= 0),
    bytes      bigint NOT NULL CHECK (bytes >= 0),
    min_ts     timestamptz NOT NULL,
    max_ts     timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX archive_manifest_day ON archive_manifest (day, created_at, key);

-- +goose Down
DROP TABLE archive_manifest;
