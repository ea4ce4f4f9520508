-- Accounts, enrollment codes, device tokens, load reports and the push idempotency records
-- (PostgreSQL). Secrets are never stored: codes and tokens only as the SHA-256 hex of their text.

-- The facility's status from its newest report (FacilityStatus as JSON); NULL until a report
-- arrives, and on a tombstone. Registry upserts leave it alone.
ALTER TABLE facilities ADD COLUMN status TEXT;

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reporter', 'outreach', 'admin')),
    scope TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

CREATE INDEX enrollment_codes_account ON enrollment_codes (account_id);

CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    device TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE INDEX device_tokens_account ON device_tokens (account_id);

CREATE TABLE reports (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    as_of TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL,
    superseded BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX reports_newest ON reports (facility_id, superseded, as_of, received_at, id);

CREATE TABLE mutations (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    applied_at TIMESTAMPTZ NOT NULL
);
