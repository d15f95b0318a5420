-- As SQLite's 0007_mailbox_skipped_messages.sql: messages of a mailbox the scan could not use.
ALTER TABLE mailboxes ADD COLUMN skipped_messages BIGINT NOT NULL DEFAULT 0;
