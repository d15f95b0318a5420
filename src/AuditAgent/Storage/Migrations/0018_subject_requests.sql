-- Data subject requests (GDPR Art. 15 and 17) by a privacy officer: who looked up or erased whom (by the keyed
-- hash of the address, never the address), why, and how many incidents it touched. An erased exposed
-- recipient keeps its keyed hash (counts stay right) and loses its sealed address and name (sealed = '').
CREATE TABLE subject_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    kind         TEXT NOT NULL,
    subject_key  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    incidents    INTEGER NOT NULL
);
CREATE INDEX ix_exposed_recipients_key ON exposed_recipients (recipient_key);
