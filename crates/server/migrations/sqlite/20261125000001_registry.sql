-- The facility registry and its change sequence (SQLite).
-- Every change takes the next number of registry_sequence; a facility row carries the number of
-- its latest change, so the feed lists each facility once, at its latest change.
CREATE TABLE registry_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
INSERT INTO registry_sequence (id, last_seq) VALUES (1, 0);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY NOT NULL,          -- UUID, FacilityId
    seq INTEGER NOT NULL UNIQUE,           -- latest change of this facility
    version INTEGER NOT NULL,              -- 1 on insert, +1 on every edit or deletion
    updated_at TEXT NOT NULL,              -- RFC 3339, UTC
    deleted INTEGER NOT NULL DEFAULT 0,    -- tombstone: body and kind are NULL
    body TEXT,                             -- the Facility as JSON
    kind TEXT,                             -- FacilityKind wire name, for queries
    demo INTEGER NOT NULL DEFAULT 0        -- seeded by `caremap-server demo`
) STRICT;

CREATE INDEX facilities_demo ON facilities (demo) WHERE demo = 1 AND deleted = 0;
