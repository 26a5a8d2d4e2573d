-- What the sync daemon (hallkiosk sync) keeps between runs, and the devices' health that the kiosk
-- process writes for the daemon's heartbeat (the daemon itself has no device access).

CREATE TABLE sync_state (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;

CREATE TABLE device_health (
    device    TEXT PRIMARY KEY,
    level     TEXT NOT NULL CHECK (level IN ('ok', 'warning', 'fault')),
    detail    TEXT NOT NULL,
    since_ms  INTEGER NOT NULL
) STRICT;
