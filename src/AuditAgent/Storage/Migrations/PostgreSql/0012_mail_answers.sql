-- As SQLite's 0015_mail_answers.sql.
CREATE TABLE mail_answers (
    nonce        TEXT PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    answer       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    detail       TEXT,
    at           TEXT NOT NULL
);
CREATE INDEX ix_mail_answers_incident ON mail_answers (incident_id);
ALTER TABLE incidents ADD COLUMN review_note TEXT;
-- Notifications:AskSender: when the sender was asked what happened, and what they answered (mistake,
-- recipients-agreed, not-me) or no-answer once the time to answer passed.
ALTER TABLE incidents ADD COLUMN sender_asked_at TEXT;
ALTER TABLE incidents ADD COLUMN sender_answer TEXT;
CREATE TABLE apology_drafts (
    incident_id  BIGINT PRIMARY KEY REFERENCES incidents(id),
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    approved_by  TEXT,
    approved_at  TEXT
);
