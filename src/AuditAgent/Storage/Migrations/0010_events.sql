-- The event stream (docs/events.md): one immutable row per change a person would want to hear of, written
-- in the same transaction as the change. Consumers read it in id order and keep the last id they saw.
-- The payload is JSON without any exposed address; subjects are added when read, only if configured.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    type         TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    incident_id  INTEGER REFERENCES incidents(id),
    payload      TEXT NOT NULL
);
CREATE INDEX ix_events_incident ON events (incident_id);
