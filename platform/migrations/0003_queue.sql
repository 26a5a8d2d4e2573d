-- The hall's queue (排队叫号) as the reference platform keeps it: one number sequence per day and
-- business category, shared by every kiosk of the hall. `called` stays 0 here (no calling
-- system in the lab), so everyone issued earlier today counts as waiting.
CREATE TABLE queue_tickets (
    day            TEXT   NOT NULL,
    category       TEXT   NOT NULL,
    seq            BIGINT NOT NULL,
    kiosk_id       TEXT   NOT NULL,
    issued_at_ms   BIGINT NOT NULL,
    called         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, category, seq)
);
