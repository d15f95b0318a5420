-- Answers from escalation mails. Each link carries a nonce and is single use: the row says what it
-- recorded, for whom and when, and a second use shows it instead of acting again.
CREATE TABLE mail_answers (
    nonce        TEXT PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    answer       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    detail       TEXT,
    at           TEXT NOT NULL
);
CREATE INDEX ix_mail_answers_incident ON mail_answers (incident_id);
-- "This mail was authorised": the justification waits for an analyst's review; the incident stays open.
ALTER TABLE incidents ADD COLUMN review_note TEXT;
-- Notifications:AskSender: when the sender was asked what happened, and what they answered (mistake,
-- recipients-agreed, not-me) or no-answer once the time to answer passed.
ALTER TABLE incidents ADD COLUMN sender_asked_at TEXT;
ALTER TABLE incidents ADD COLUMN sender_answer TEXT;
-- The apology of the plan's "apologise from higher up" step: drafted by the agent, edited in the console,
-- approved by a privacy officer (an edit after approval needs a new approval).
CREATE TABLE apology_drafts (
    incident_id  INTEGER PRIMARY KEY REFERENCES incidents(id),
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    approved_by  TEXT,
    approved_at  TEXT
);
