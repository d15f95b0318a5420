-- What detection needs to see where incidents start (issue 18).
-- Mailboxes: every user with a mail address is scanned, sign-in blocked or not (shared mailboxes, leavers).
-- purpose is mailboxSettings.userPurpose (user, shared, room, equipment, ...; NULL until read, which needs the
-- optional MailboxSettings.Read), re-read daily; room and equipment mailboxes are not scanned. no_mailbox_at:
-- when Graph last said the user has no Exchange Online mailbox; such a user is tried again only a day later.
ALTER TABLE mailboxes ADD COLUMN account_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mailboxes ADD COLUMN department TEXT;
ALTER TABLE mailboxes ADD COLUMN purpose TEXT;
ALTER TABLE mailboxes ADD COLUMN purpose_checked_at TEXT;
ALTER TABLE mailboxes ADD COLUMN no_mailbox_at TEXT;

-- Findings and incidents: the address a message went out as when that was not the person (a shared mailbox),
-- and why the list is sensitive ("category<TAB>reason" per line; matched at scan time, as recipients' names are
-- sealed once stored).
ALTER TABLE findings ADD COLUMN sent_as TEXT;
ALTER TABLE findings ADD COLUMN sensitive TEXT;
ALTER TABLE incidents ADD COLUMN sent_as TEXT;
ALTER TABLE incidents ADD COLUMN sensitive TEXT;
ALTER TABLE incidents ADD COLUMN reply_all_count INTEGER NOT NULL DEFAULT 0;

-- Replies to all from outside, found in the sender's mailbox by the reply watch; processed into the
-- incident's timeline exactly once (processed_at), like bcc_messages. The replier is named by domain only.
CREATE TABLE reply_all_messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id       INTEGER NOT NULL REFERENCES incidents(id),
    graph_message_id  TEXT NOT NULL,
    replier_domain    TEXT NOT NULL,
    sent_at           TEXT NOT NULL,
    reached           INTEGER NOT NULL,
    detected_at       TEXT NOT NULL,
    processed_at      TEXT,
    UNIQUE (incident_id, graph_message_id)
);
CREATE INDEX ix_reply_all_unprocessed ON reply_all_messages (processed_at);

-- One row of counts per scanned message, for replaying prevention rules (backtest): no address, no subject.
-- message_key is a 64-bit hash of the Graph message id (a replayed page adds nothing). Kept small, as there is a
-- row per message: the sent time in Unix seconds, no index besides the primary key (backtest and the daily purge
-- read the whole table), and WITHOUT ROWID, so the primary key is the table rather than a second copy of it.
CREATE TABLE message_stats (
    mailbox_id        TEXT NOT NULL,
    message_key       INTEGER NOT NULL,
    sent_unix         INTEGER NOT NULL,
    visible_external  INTEGER NOT NULL,
    external_count    INTEGER NOT NULL,
    all_recipients    INTEGER NOT NULL,
    external_domains  INTEGER NOT NULL,
    bcc_count         INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, message_key)
) WITHOUT ROWID;
