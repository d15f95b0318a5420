-- A message sent in Bcc is only ever matched as a whole against an incident's recipients: keep its
-- external Bcc addresses in one column (one per line) instead of one row each. Newsletters sent in
-- Bcc are common, and a row per recipient made them the bulk of every scan's writes.
ALTER TABLE bcc_messages ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
UPDATE bcc_messages SET recipients = COALESCE(
    (SELECT group_concat(address, char(10)) FROM bcc_message_recipients r WHERE r.bcc_message_id = bcc_messages.id), '');
DROP TABLE bcc_message_recipients;
