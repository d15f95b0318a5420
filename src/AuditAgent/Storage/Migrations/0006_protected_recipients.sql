-- Exposed recipients, protected: the address and display name are sealed (AES-256-GCM with the key
-- ring, see Protection/), and a keyed hash of the address with its domain ("hash@domain") is what
-- incidents match and count by. finding_recipients held them in plain text; the agent moves any old
-- rows here (and hashes old Bcc lists) in the key-ring step of the migrations (Protection/RecipientUpgrade).
CREATE TABLE exposed_recipients (
    finding_id     INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    recipient_key  TEXT NOT NULL,                -- keyed hash of the address, then @domain
    domain         TEXT NOT NULL,
    field          TEXT NOT NULL,                -- To or Cc
    sealed         TEXT NOT NULL,                -- p1.{key id}.{nonce, ciphertext, tag}
    PRIMARY KEY (finding_id, recipient_key)
);
