-- Issue 21: a kiosk token names exactly one kiosk (a database that already holds one token for two
-- kiosks fails here: give one of them a new token with `kiosk add ID` on the old version first), and
-- the fleet page's operators, each with their own token (only its SHA-256 is stored).
CREATE UNIQUE INDEX kiosks_token ON kiosks (token_sha256);

CREATE TABLE operators (
    name           TEXT PRIMARY KEY,
    token_sha256   TEXT NOT NULL UNIQUE,
    created_at_ms  BIGINT NOT NULL
);
