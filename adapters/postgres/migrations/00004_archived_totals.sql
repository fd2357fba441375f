-- Archived interactions summed per user and movie. InteractionLog.Commit
-- adds a file's rows here in the transaction that deletes them from
-- rt_user_interactions, so a user's whole history is always these totals
-- plus their hot rows: user actors reload both, and the seen set and the
-- exact fold-in never lose what was archived.

-- +goose Up
CREATE TABLE archived_totals (
    user_id  text COLLATE "C" NOT NULL,
    movie_id text COLLATE "C" NOT NULL,
    weight   double precision NOT NULL,
    events   integer NOT NULL,
    last_ts  timestamptz NOT NULL,
    PRIMARY KEY (user_id, movie_id)
);

-- +goose Down
DROP TABLE archived_totals;
