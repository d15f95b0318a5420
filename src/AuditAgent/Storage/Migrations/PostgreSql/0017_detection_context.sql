-- As SQLite's 0020_detection_context.sql.
ALTER TABLE mailboxes ADD COLUMN account_enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE mailboxes ADD COLUMN department TEXT;
ALTER TABLE mailboxes ADD COLUMN purpose TEXT;
ALTER TABLE mailboxes ADD COLUMN purpose_checked_at TEXT;
ALTER TABLE mailboxes ADD COLUMN no_mailbox_at TEXT;

ALTER TABLE findings ADD COLUMN sent_as TEXT;
ALTER TABLE findings ADD COLUMN sensitive TEXT;
ALTER TABLE incidents ADD COLUMN sent_as TEXT;
ALTER TABLE incidents ADD COLUMN sensitive TEXT;
ALTER TABLE incidents ADD COLUMN reply_all_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reply_all_messages (
    id                BIGSERIAL PRIMARY KEY,
    incident_id       BIGINT NOT NULL REFERENCES incidents(id),
    graph_message_id  TEXT NOT NULL,
    replier_domain    TEXT NOT NULL,
    sent_at           TEXT NOT NULL,
    reached           INTEGER NOT NULL,
    detected_at       TEXT NOT NULL,
    processed_at      TEXT,
    UNIQUE (incident_id, graph_message_id)
);
CREATE INDEX ix_reply_all_unprocessed ON reply_all_messages (processed_at);

CREATE TABLE message_stats (
    mailbox_id        TEXT NOT NULL,
    message_key       BIGINT NOT NULL,
    sent_unix         BIGINT NOT NULL,
    visible_external  INTEGER NOT NULL,
    external_count    INTEGER NOT NULL,
    all_recipients    INTEGER NOT NULL,
    external_domains  INTEGER NOT NULL,
    bcc_count         INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, message_key)
);
