-- Progress queries by card, queue tickets numbered at the kiosk, and ratings (好差评).

-- A pseudonymous reference to the applicant (HMAC of the ID number under a key outside this
-- database, src/outbox/crypto.rs), so that placing the card later lists this person's submissions
-- after the payload with the ID number itself has been purged. NULL for synthetic submissions.
ALTER TABLE submissions ADD COLUMN person_ref TEXT;
CREATE INDEX submissions_person ON submissions (person_ref);

-- Kiosk-local ticket numbering when the hall's queue system cannot be reached: one sequence per
-- day and business category.
CREATE TABLE queue_numbers (
    day       TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (day, category)
) STRICT;

-- Ratings wait here until the sync daemon has delivered them (idempotency key resent on retry).
-- They carry no personal data: the service rated, five levels, a reason from a fixed list.
CREATE TABLE ratings (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    service_item     TEXT,
    tracking_code    TEXT,
    level            INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    reason           TEXT,
    created_at_ms    INTEGER NOT NULL,
    sent_at_ms       INTEGER
) STRICT;
CREATE INDEX ratings_unsent ON ratings (sent_at_ms, id);
