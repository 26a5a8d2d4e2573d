-- A kiosk's quarantined outbox entries (payload cannot be opened or parsed) from its last heartbeat:
-- an alarm on the fleet page (issue 21).
ALTER TABLE kiosks ADD COLUMN quarantined BIGINT;
