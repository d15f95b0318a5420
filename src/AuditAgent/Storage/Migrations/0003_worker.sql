-- Every run of a scheduled job: what `status` shows and what the digest's health section reads.
CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job          TEXT NOT NULL,
    instance     TEXT NOT NULL,              -- host and process that ran it
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL,              -- running, succeeded, failed
    summary      TEXT,
    error        TEXT
);
CREATE INDEX ix_job_runs_job ON job_runs (job, id);

-- Mail to send, exactly once: the unique key is the digest's day and recipients, or the
-- escalation's incident and reason. A crash between sending and recording is resolved by
-- checking the sender's Sent Items for the message's reference.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,              -- digest, escalation
    dedupe_key   TEXT NOT NULL UNIQUE,
    incident_id  INTEGER REFERENCES incidents(id),
    recipients   TEXT NOT NULL,              -- JSON array of addresses
    subject      TEXT NOT NULL,
    html         TEXT NOT NULL,
    text         TEXT NOT NULL,
    status       TEXT NOT NULL,              -- pending, sending, sent, failed, unknown
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    not_before   TEXT NOT NULL,              -- quiet hours hold escalations until then
    sent_at      TEXT
);
CREATE INDEX ix_outbox_status ON outbox (status, not_before);
