-- Run once by the postgres image's entrypoint when the data volume is empty.
CREATE TABLE IF NOT EXISTS items (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT        NOT NULL CHECK (length(name) > 0),
    quantity   INTEGER     NOT NULL DEFAULT 1 CHECK (quantity >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
