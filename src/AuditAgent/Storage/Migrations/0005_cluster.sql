-- One scan cycle covers every mailbox once. Agents sharing a database take part in the same cycle by
-- leasing mailboxes; a lease that is not renewed (its agent died) expires and another agent takes it.
CREATE TABLE scan_cycles (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at        TEXT NOT NULL,
    started_by        TEXT NOT NULL,             -- agent instance that read the directory
    since             TEXT NOT NULL,             -- start of the look-back window for new syncs
    internal_domains  TEXT NOT NULL,             -- one per line: every agent detects with the same list
    mailboxes         INTEGER NOT NULL,
    finished_at       TEXT
);

ALTER TABLE mailboxes ADD COLUMN due_cycle INTEGER;         -- the cycle that must cover this mailbox
ALTER TABLE mailboxes ADD COLUMN done_cycle INTEGER;        -- the last cycle that covered it (scanned or failed)
ALTER TABLE mailboxes ADD COLUMN scanned_by TEXT;           -- the agent that covered it
ALTER TABLE mailboxes ADD COLUMN lease_owner TEXT;          -- the agent scanning it now
ALTER TABLE mailboxes ADD COLUMN lease_expires_at TEXT;
-- Only mailboxes still to cover in their cycle: a claim finds the next twenty without reading the rest.
CREATE INDEX ix_mailboxes_uncovered ON mailboxes (due_cycle, id) WHERE done_cycle IS NULL OR done_cycle <> due_cycle;

-- Every agent process that has used this database, with its last check-in.
CREATE TABLE agent_instances (
    id            TEXT PRIMARY KEY,              -- host:pid
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    version       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    stopped_at    TEXT
);
