-- The facility registry and its change sequence (PostgreSQL).
-- Every change takes the next number of registry_sequence; a facility row carries the number of
-- its latest change, so the feed lists each facility once, at its latest change.
-- Writers serialise on an advisory lock (see src/store/postgres.rs), so numbers commit in order.
CREATE TABLE registry_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO registry_sequence (id, last_seq) VALUES (1, 0);

CREATE TABLE facilities (
    id UUID PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    body TEXT,
    kind TEXT,
    demo BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX facilities_demo ON facilities (demo) WHERE demo AND NOT deleted;
