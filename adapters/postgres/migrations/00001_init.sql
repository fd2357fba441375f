-- Marquee's PostgreSQL schema. Ids (domain.IDPattern: ASCII letters, digits
-- and _.:@-) are text COLLATE "C": they compare bytewise, as in Go, on every
-- server locale, and their indexes serve ORDER BY id.
--
-- Tables are created unqualified: they land in the schema the connection's
-- search_path names first (Open's WithSchema), while the vector type comes
-- from the extension in public, which every search_path Open builds includes.

-- +goose Up
-- The extension is database-wide; it lives in public so that dropping a
-- schema (a test's, say) can never take it with it.
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

CREATE TABLE movies (
    movie_id text COLLATE "C" PRIMARY KEY,
    title    text NOT NULL,
    year     integer NOT NULL DEFAULT 0,
    genres   text[] NOT NULL DEFAULT '{}'
);

-- preference_vector has no fixed dimension: it has the factor count of the
-- model it was folded in against, and models differ. NULL means no vector.
CREATE TABLE user_profiles (
    user_id           text COLLATE "C" PRIMARY KEY,
    preference_vector vector,
    model_version     text NOT NULL DEFAULT '',
    interaction_count bigint NOT NULL DEFAULT 0,
    last_event_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- The hot table. seq keeps insertion order among events with equal ts.
CREATE TABLE rt_user_interactions (
    event_id    text COLLATE "C" PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    user_id     text COLLATE "C" NOT NULL,
    movie_id    text COLLATE "C" NOT NULL,
    event_type  text NOT NULL,
    value       double precision,
    weight      double precision NOT NULL,
    ts          timestamptz NOT NULL,
    rec_log_id  text COLLATE "C",
    ingested_at timestamptz NOT NULL
);
CREATE INDEX rt_user_interactions_user_ts ON rt_user_interactions (user_id, ts, seq);
CREATE INDEX rt_user_interactions_ts ON rt_user_interactions (ts);

-- key is domain.Popularity's time-invariant log-space key: ordering by it
-- is ordering by the decayed score at any instant.
CREATE TABLE popular_movies (
    movie_id text COLLATE "C" PRIMARY KEY,
    key      double precision NOT NULL
);
CREATE INDEX popular_movies_key ON popular_movies (key DESC, movie_id);

-- One row per user: the latest precomputed list, as parallel arrays
-- (titles NULL when the list carries none).
CREATE TABLE batch_recommendations (
    user_id       text COLLATE "C" PRIMARY KEY,
    model_version text NOT NULL,
    movie_ids     text[] NOT NULL,
    scores        double precision[] NOT NULL,
    titles        text[],
    generated_at  timestamptz NOT NULL
);

-- Registry of the item-vector sets. The vectors of version id N live in
-- their own table item_vectors_N with a fixed-dimension vector column and
-- an HNSW index (see vectors.go): tables are created and dropped as
-- versions come and go.
CREATE TABLE vector_versions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    text NOT NULL UNIQUE,
    dims       integer NOT NULL CHECK (dims BETWEEN 1 AND 2000),
    movies     integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recommendation_logs (
    rec_log_id    text COLLATE "C" PRIMARY KEY,
    user_id       text COLLATE "C" NOT NULL,
    served_by     text NOT NULL,
    source_tier   text NOT NULL,
    model_version text NOT NULL DEFAULT '',
    generated_at  timestamptz NOT NULL,
    items         jsonb NOT NULL,
    latency       interval NOT NULL,
    served_at     timestamptz NOT NULL,
    requested     integer NOT NULL DEFAULT 0
);
CREATE INDEX recommendation_logs_served_at ON recommendation_logs (served_at);
CREATE INDEX recommendation_logs_user ON recommendation_logs (user_id, served_at);

CREATE TABLE recommendation_feedback (
    event_id   text COLLATE "C" PRIMARY KEY,
    rec_log_id text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    movie_id   text COLLATE "C" NOT NULL,
    event_type text NOT NULL,
    ts         timestamptz NOT NULL,
    tier       text NOT NULL DEFAULT '',
    position   integer NOT NULL DEFAULT 0
);
CREATE INDEX recommendation_feedback_rec_log ON recommendation_feedback (rec_log_id);
CREATE INDEX recommendation_feedback_ts ON recommendation_feedback (ts);

-- The model registry. seq is the save order ("newest first" in List);
-- at most one model is serving.
CREATE TABLE models (
    version       text PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    status        text NOT NULL CHECK (status IN ('candidate', 'serving', 'retired')),
    created_at    timestamptz NOT NULL,
    saved_at      timestamptz NOT NULL DEFAULT now(),
    promoted_at   timestamptz,
    factors       integer NOT NULL,
    alpha         double precision NOT NULL,
    lambda        double precision NOT NULL,
    iterations    integer NOT NULL DEFAULT 0,
    solver        text NOT NULL DEFAULT '',
    users         bigint NOT NULL DEFAULT 0,
    interactions  bigint NOT NULL DEFAULT 0,
    train_seconds double precision NOT NULL DEFAULT 0,
    metrics       jsonb,
    validation    jsonb
);
CREATE UNIQUE INDEX models_one_serving ON models ((true)) WHERE status = 'serving';

-- The published factors of a model: movies[i] owns the factors
-- item_factors[i*factors+1 .. (i+1)*factors] (row-major, 1-based).
CREATE TABLE model_factors (
    version      text PRIMARY KEY REFERENCES models (version) ON DELETE CASCADE,
    movies       text[] NOT NULL,
    item_factors real[] NOT NULL
);

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM vector_versions LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', 'item_vectors_' || r.id);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP TABLE model_factors;
DROP TABLE models;
DROP TABLE recommendation_feedback;
DROP TABLE recommendation_logs;
DROP TABLE vector_versions;
DROP TABLE batch_recommendations;
DROP TABLE popular_movies;
DROP TABLE rt_user_interactions;
DROP TABLE user_profiles;
DROP TABLE movies;
