-- Issue 21: entries that cannot be opened or parsed are quarantined (never claimed again, reason
-- kept); payloads carry a sealed-format number; the times retention needs (docs/outbox.md).

-- 0: nonce || ciphertext bound to the idempotency key only (opened and sealed again in format 1
-- when the outbox is opened, src/outbox/crypto.rs); 1: version || key id || nonce || ciphertext,
-- bound to every stored field of the row.
ALTER TABLE submissions ADD COLUMN sealed_format INTEGER NOT NULL DEFAULT 0;

-- The outbox table again, with the `quarantined` state (a CHECK cannot be altered in SQLite).
-- The trigger that adds entries names the table, so it goes and comes back around the swap.
DROP TRIGGER submissions_enqueue;

CREATE TABLE outbox_new (
    submission_id        INTEGER PRIMARY KEY REFERENCES submissions(id),
    state                TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'accepted', 'rejected', 'quarantined')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms   INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    last_error           TEXT,
    reject_reason        TEXT,
    accepted_at_ms       INTEGER,
    platform_state       TEXT,
    -- when the platform refused it for good (rejected payloads are purged after retention)
    rejected_at_ms       INTEGER,
    -- why it cannot be opened or parsed (no personal data), and since when
    quarantine_reason    TEXT,
    quarantined_at_ms    INTEGER,
    -- when platform_state last changed (person_ref is cleared a grace period after a final state)
    platform_state_at_ms INTEGER
) STRICT;

INSERT INTO outbox_new (submission_id, state, attempts, next_attempt_at_ms, updated_at_ms, last_error,
                        reject_reason, accepted_at_ms, platform_state, rejected_at_ms,
                        platform_state_at_ms)
SELECT submission_id, state, attempts, next_attempt_at_ms, updated_at_ms, last_error,
       reject_reason, accepted_at_ms, platform_state,
       CASE WHEN state = 'rejected' THEN updated_at_ms END,
       CASE WHEN platform_state IS NOT NULL THEN updated_at_ms END
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at_ms);
CREATE INDEX outbox_queue ON outbox (state, submission_id);

CREATE TRIGGER submissions_enqueue AFTER INSERT ON submissions
BEGIN
    INSERT INTO outbox (submission_id, state, next_attempt_at_ms, updated_at_ms)
    VALUES (NEW.id, 'queued', NEW.created_at_ms, NEW.created_at_ms);
END;
