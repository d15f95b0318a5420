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
