-- The right to be forgotten. user_tombstones remembers each deleted user
-- and when: events of theirs ingested before it (still in the event
-- stream at the deletion, say) are dropped by their user actor and by the
-- training loader, for as long as the tombstone lives (it is pruned once
-- the deletion is done and old enough). It names the user by a digest of
-- the id (domain.UserDigest), never by the id itself. archive_retired is the middle
-- state of an archive file rewritten without a user's rows: the rewrite
-- replaces it in archive_manifest and the old key is recorded here in the
-- same transaction, so that from the commit on exactly one of the two
-- files counts, and the old object, which still holds the user's rows, is
-- known to be deleted even if the process dies before it does.

-- +goose Up
CREATE TABLE user_tombstones (
    user_digest text COLLATE "C" PRIMARY KEY,
    buried_at   timestamptz NOT NULL,
    done        boolean NOT NULL DEFAULT false
);

CREATE TABLE archive_retired (
    key        text COLLATE "C" PRIMARY KEY,
    retired_at timestamptz NOT NULL DEFAULT now()
);

-- Deleting a user's analytics: feedback by user; freshness samples by
-- user (they name it from now on) or, those from before, by event.
CREATE INDEX recommendation_feedback_user ON recommendation_feedback (user_id);
ALTER TABLE freshness_samples ADD COLUMN user_id text COLLATE "C";
CREATE INDEX freshness_samples_user ON freshness_samples (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX freshness_samples_event ON freshness_samples (event_id);

-- +goose Down
DROP INDEX freshness_samples_event;
DROP INDEX freshness_samples_user;
ALTER TABLE freshness_samples DROP COLUMN user_id;
DROP INDEX recommendation_feedback_user;
DROP TABLE archive_retired;
DROP TABLE user_tombstones;
