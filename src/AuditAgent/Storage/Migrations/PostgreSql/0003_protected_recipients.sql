-- As SQLite's 0006_protected_recipients.sql: sealed addresses with a keyed hash for matching.
CREATE TABLE exposed_recipients (
    finding_id     BIGINT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    recipient_key  TEXT NOT NULL,
    domain         TEXT NOT NULL,
    field          TEXT NOT NULL,
    sealed         TEXT NOT NULL,
    PRIMARY KEY (finding_id, recipient_key)
);
