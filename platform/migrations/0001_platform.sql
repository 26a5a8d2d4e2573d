-- The reference platform's store (docs/platform.md). Plain SQL that SQLite and PostgreSQL both run.
CREATE TABLE kiosks (
    kiosk_id            TEXT PRIMARY KEY,
    token_sha256        TEXT NOT NULL,
    created_at_ms       BIGINT NOT NULL,
    last_heartbeat_ms   BIGINT,
    software_version    TEXT,
    outbox_depth        BIGINT,
    oldest_unacked_secs BIGINT,
    rejected            BIGINT,
    devices_json        TEXT,
    last_error          TEXT
);

CREATE TABLE heartbeats (
    kiosk_id     TEXT NOT NULL,
    received_ms  BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX heartbeats_kiosk ON heartbeats (kiosk_id, received_ms);

-- One row per (kiosk, Idempotency-Key): 'processing' while a request holds the lease, then 'done'
-- with the status and body every replay answers with.
CREATE TABLE idempotency (
    kiosk_id        TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    state           TEXT NOT NULL,
    lease_until_ms  BIGINT NOT NULL,
    status          BIGINT,
    response        TEXT,
    created_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (kiosk_id, idem_key)
);

CREATE TABLE submissions (
    kiosk_id        TEXT NOT NULL,
    tracking_code   TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    platform_id     TEXT NOT NULL,
    service_item    TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    changed_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (kiosk_id, tracking_code)
);
CREATE UNIQUE INDEX submissions_key ON submissions (kiosk_id, idem_key);
CREATE INDEX submissions_seq ON submissions (kiosk_id, seq);

CREATE TABLE catalogs (
    version          TEXT PRIMARY KEY,
    published_at_ms  BIGINT NOT NULL,
    body             TEXT NOT NULL
);

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0), ('platform_id', 0);
