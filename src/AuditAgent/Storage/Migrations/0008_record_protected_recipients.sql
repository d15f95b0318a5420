-- A database with no plain-text recipient anywhere (every database this version creates) has nothing
-- for the key-ring step to upgrade: record that here, so that only a database written before recipients
-- were protected waits for Protection/RecipientUpgrade, which seals its rows and records the same key.
INSERT INTO meta (key, value)
SELECT 'recipients_protected', '1'
WHERE NOT EXISTS (SELECT 1 FROM finding_recipients)
  AND NOT EXISTS (SELECT 1 FROM bcc_messages WHERE recipients <> '')
ON CONFLICT (key) DO NOTHING;
