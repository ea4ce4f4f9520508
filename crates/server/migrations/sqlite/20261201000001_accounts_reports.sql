-- Accounts, enrollment codes, device tokens, load reports and the push idempotency records
-- (SQLite). Secrets are never stored: codes and tokens only as the SHA-256 hex of their text.

-- The facility's status from its newest report (FacilityStatus as JSON); NULL until a report
-- arrives, and on a tombstone. Registry upserts leave it alone.
ALTER TABLE facilities ADD COLUMN status TEXT;

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reporter', 'outreach', 'admin')),
    scope TEXT NOT NULL,                   -- Scope as JSON: {"facilities": [...], "townships": [...]}
    created_at TEXT NOT NULL,              -- RFC 3339, UTC
    revoked_at TEXT                        -- set by `user revoke`: no token of it works any more
) STRICT;

CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,   -- SHA-256 hex of EnrollmentCode::as_str()
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT                           -- one-time: set when traded for a token
) STRICT;

CREATE INDEX enrollment_codes_account ON enrollment_codes (account_id);

CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,  -- SHA-256 hex of the bearer token
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    device TEXT,                           -- the name the phone gave itself
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;

CREATE INDEX device_tokens_account ON device_tokens (account_id);

-- Load reports, append-only. Times used for ordering are whole microseconds since the Unix
-- epoch (INTEGER), because SQLite compares text and RFC 3339 text varies in its fractions.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,          -- ReportId (UUID v7 from the phone) = mutation id
    facility_id TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),  -- the reporter, from the token
    as_of INTEGER NOT NULL,                -- µs since epoch, the report's as_of (phone clock)
    recorded_at TEXT NOT NULL,             -- RFC 3339, the phone's clock when saved
    received_at INTEGER NOT NULL,          -- µs since epoch, the server's clock when stored
    body TEXT NOT NULL,                    -- the LoadReport as JSON
    superseded INTEGER NOT NULL DEFAULT 0  -- a later correction replaced it
) STRICT;

CREATE INDEX reports_newest ON reports (facility_id, superseded, as_of, received_at, id);

-- One row per applied mutation: the idempotency record, written in the same transaction.
CREATE TABLE mutations (
    id TEXT PRIMARY KEY NOT NULL,          -- the mutation id (UUID)
    kind TEXT NOT NULL,                    -- mutation type, e.g. load_report
    content_hash TEXT NOT NULL,            -- SHA-256 hex of type, canonical body and recorded_at
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    applied_at TEXT NOT NULL
) STRICT;
