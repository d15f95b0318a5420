-- Mailboxes the agent scans, with the newest delta link of each (the resume point).
CREATE TABLE mailboxes (
    id              TEXT PRIMARY KEY,          -- Graph user id
    address         TEXT NOT NULL,
    display_name    TEXT,
    delta_link      TEXT,                      -- newest @odata.nextLink or @odata.deltaLink
    round_complete  INTEGER NOT NULL DEFAULT 0,-- 1 when delta_link is a deltaLink
    first_seen_at   TEXT NOT NULL,
    last_synced_at  TEXT,                      -- end of the last complete round
    last_error      TEXT,
    last_error_at   TEXT,
    resyncs         INTEGER NOT NULL DEFAULT 0
);

-- One row per sent message that exposed external recipients. The unique key makes replayed
-- delta pages and resyncs harmless.
CREATE TABLE findings (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id              TEXT NOT NULL REFERENCES mailboxes(id),
    graph_message_id        TEXT NOT NULL,
    internet_message_id     TEXT,
    conversation_id         TEXT,
    subject                 TEXT,
    sent_at                 TEXT,
    sender_address          TEXT NOT NULL,
    sender_name             TEXT,
    visible_external_count  INTEGER NOT NULL,
    external_domain_count   INTEGER NOT NULL,
    bcc_count               INTEGER NOT NULL,
    detected_at             TEXT NOT NULL,
    UNIQUE (mailbox_id, graph_message_id)
);
CREATE INDEX ix_findings_sent_at ON findings (sent_at);
CREATE INDEX ix_findings_internet_message_id ON findings (internet_message_id);

-- The visible external recipients of each finding.
CREATE TABLE finding_recipients (
    finding_id  INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    name        TEXT,
    field       TEXT NOT NULL,                 -- To or Cc
    PRIMARY KEY (finding_id, address)
);

CREATE TABLE scan_runs (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at               TEXT NOT NULL,
    finished_at              TEXT,
    status                   TEXT NOT NULL,    -- running, succeeded, partial, failed
    mailboxes                INTEGER NOT NULL DEFAULT 0,
    mailboxes_failed         INTEGER NOT NULL DEFAULT 0,
    messages                 INTEGER NOT NULL DEFAULT 0,
    malformed_messages       INTEGER NOT NULL DEFAULT 0,
    unresolvable_recipients  INTEGER NOT NULL DEFAULT 0,
    findings_new             INTEGER NOT NULL DEFAULT 0,
    resyncs                  INTEGER NOT NULL DEFAULT 0,
    error                    TEXT
);

-- Facts about the database itself (e.g. that the demo created it).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
