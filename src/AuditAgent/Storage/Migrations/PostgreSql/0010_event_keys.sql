-- As SQLite's 0013_event_keys.sql: time-based events are announced once.
ALTER TABLE events ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX ux_events_dedupe_key ON events (dedupe_key);
