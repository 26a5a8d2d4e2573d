-- Ratings (好差评) from the kiosks. A rating below 满意 (level < 4) is flagged for follow-up on the
-- fleet page. Keyed by (kiosk, idempotency key): a replay stores nothing twice.
CREATE TABLE ratings (
    kiosk_id        TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    service_item    TEXT,
    tracking_code   TEXT,
    level           BIGINT NOT NULL,
    reason          TEXT,
    created_at_ms   BIGINT NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (kiosk_id, idem_key)
);
CREATE INDEX ratings_level ON ratings (level, received_at_ms);
