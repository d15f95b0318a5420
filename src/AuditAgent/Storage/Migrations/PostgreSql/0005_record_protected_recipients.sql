-- As SQLite's 0008_record_protected_recipients.sql: a database without plain-text recipients has
-- nothing for the key-ring upgrade step to do.
INSERT INTO meta (key, value)
SELECT 'recipients_protected', '1'
WHERE NOT EXISTS (SELECT 1 FROM finding_recipients)
  AND NOT EXISTS (SELECT 1 FROM bcc_messages WHERE recipients <> '')
ON CONFLICT (key) DO NOTHING;
