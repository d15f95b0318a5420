-- Messages of a mailbox the scan could not use: malformed (a wrong JSON type, a sent time that cannot
-- be true) or a Graph id seen twice in one round with different recipients. Counted per mailbox so
-- that `status` says where they are.
ALTER TABLE mailboxes ADD COLUMN skipped_messages INTEGER NOT NULL DEFAULT 0;
