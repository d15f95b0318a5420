-- What the incident engine made of each finding.
ALTER TABLE findings ADD COLUMN processed_at TEXT;           -- null until the incident engine has seen it
ALTER TABLE findings ADD COLUMN incident_id INTEGER REFERENCES incidents(id);
ALTER TABLE findings ADD COLUMN role TEXT;                   -- blast, copy, re-exposure
ALTER TABLE findings ADD COLUMN suppression_reason TEXT;     -- set when kept but suppressed
CREATE INDEX ix_findings_processed_at ON findings (processed_at);
CREATE INDEX ix_findings_incident_id ON findings (incident_id);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    status          TEXT NOT NULL,              -- new, acknowledged, remediating, resolved, false-positive
    severity        TEXT NOT NULL,              -- low, medium, high, critical
    sender_address  TEXT NOT NULL,
    subject         TEXT,
    subject_key     TEXT NOT NULL,              -- subject without RE:/FW:, case and spacing
    first_sent_at   TEXT NOT NULL,
    last_blast_at   TEXT NOT NULL,
    detected_at     TEXT NOT NULL,              -- awareness: the 72-hour clock starts here
    exposed_count   INTEGER NOT NULL,
    domain_count    INTEGER NOT NULL,
    personal_count  INTEGER NOT NULL,
    blast_messages  INTEGER NOT NULL,
    copies          INTEGER NOT NULL,
    re_exposed      INTEGER NOT NULL,
    repeat_sender   INTEGER NOT NULL,
    reasons         TEXT NOT NULL,              -- JSON array of plain sentences
    notes           TEXT NOT NULL,              -- JSON array: history lines kept in the reasons
    assignee        TEXT,
    closed_at       TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX ix_incidents_sender ON incidents (sender_address, first_sent_at);
CREATE INDEX ix_incidents_last_blast_at ON incidents (last_blast_at);

-- Append-only: every detection, change, re-exposure and escalation, with who and when.
CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL
);
CREATE INDEX ix_incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE plan_steps (
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    step_key      TEXT NOT NULL,
    position      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    why           TEXT NOT NULL,
    owner         TEXT NOT NULL,                -- sender, manager, security, dpo, communications
    instructions  TEXT,
    condition     TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    added_at      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'todo', -- todo, done, skipped
    status_by     TEXT,
    status_at     TEXT,
    note          TEXT,
    PRIMARY KEY (incident_id, step_key)
);

CREATE TABLE allowlist (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,                  -- domain, sender
    value       TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    expires_at  TEXT
);

-- Messages that reached many external people properly, in Bcc: a follow-up done right.
CREATE TABLE bcc_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id          TEXT NOT NULL REFERENCES mailboxes(id),
    graph_message_id    TEXT NOT NULL,
    sender_address      TEXT NOT NULL,
    sent_at             TEXT NOT NULL,
    bcc_external_count  INTEGER NOT NULL,
    detected_at         TEXT NOT NULL,
    processed_at        TEXT,
    incident_id         INTEGER REFERENCES incidents(id),
    UNIQUE (mailbox_id, graph_message_id)
);
CREATE INDEX ix_bcc_messages_processed_at ON bcc_messages (processed_at);

CREATE TABLE bcc_message_recipients (
    bcc_message_id  INTEGER NOT NULL REFERENCES bcc_messages(id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    PRIMARY KEY (bcc_message_id, address)
);
