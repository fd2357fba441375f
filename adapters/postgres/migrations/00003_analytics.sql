-- +goose Up
-- Freshness samples: how long after an event arrived the user's preference
-- vector reflected it. The analytics summary reports their percentiles.
CREATE TABLE freshness_samples (
    at       timestamptz NOT NULL,
    event_id text COLLATE "C" NOT NULL,
    delay_ms double precision NOT NULL
);
CREATE INDEX freshness_samples_at ON freshness_samples (at);

-- +goose Down
DROP TABLE freshness_samples;
