-- Where each push sink stands in the event stream: the last event it took, the attempts at the next one
-- and when to try again; and the events set aside after too many attempts (dead letters).
CREATE TABLE event_sinks (
    name             TEXT PRIMARY KEY,
    last_event_id    INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_error       TEXT,
    delivered        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE event_dead_letters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sink      TEXT NOT NULL,
    event_id  INTEGER NOT NULL,
    error     TEXT NOT NULL,
    at        TEXT NOT NULL
);
