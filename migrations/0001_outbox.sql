-- The kiosk's submissions and their outbox entries (docs/outbox.md).
-- Personal data lives only in submissions.payload, encrypted (XChaCha20-Poly1305) with a key that is
-- not in this database; everything else here is bookkeeping a maintainer may see.

-- The tracking code (受理编号) is derived from kiosk_id and id (src/outbox/tracking.rs); AUTOINCREMENT
-- keeps ids from ever being reused, and rows are never deleted (payloads are purged in place).
CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    service_item     TEXT    NOT NULL,
    kiosk_id         TEXT    NOT NULL,
    consent_version  TEXT    NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    -- nonce (24 bytes) || ciphertext; NULL once the platform has accepted it and it was purged
    payload          BLOB,
    purged_at_ms     INTEGER
) STRICT;

CREATE TABLE outbox (
    submission_id       INTEGER PRIMARY KEY REFERENCES submissions(id),
    state               TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'accepted', 'rejected')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms  INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    last_error          TEXT,
    reject_reason       TEXT,
    accepted_at_ms      INTEGER,
    platform_state      TEXT
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt_at_ms);

-- A submission and its outbox entry are one statement, hence one transaction.
CREATE TRIGGER submissions_enqueue AFTER INSERT ON submissions
BEGIN
    INSERT INTO outbox (submission_id, state, next_attempt_at_ms, updated_at_ms)
    VALUES (NEW.id, 'queued', NEW.created_at_ms, NEW.created_at_ms);
END;
