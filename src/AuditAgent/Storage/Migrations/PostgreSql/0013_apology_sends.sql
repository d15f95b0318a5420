-- As SQLite's 0016_apology_sends.sql.
CREATE TABLE apology_sends (
    incident_id    BIGINT NOT NULL REFERENCES incidents(id),
    recipient_key  TEXT NOT NULL,
    mailbox        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    started_at     TEXT,
    sent_at        TEXT,
    counted_at     TEXT,
    PRIMARY KEY (incident_id, recipient_key)
);
CREATE INDEX ix_apology_sends_status ON apology_sends (status);
