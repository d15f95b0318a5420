-- The approved apology, sent by the agent: one message per exposed person, each alone in To. A row names the
-- person only by the keyed hash of the address (exposed_recipients.recipient_key); the address itself stays
-- sealed there and is opened only to send. message_id is the Internet Message-ID the mail goes out with: after
-- a crash mid-send it is looked up in the sending mailbox's Sent Items, so nobody gets the apology twice.
-- counted_at: the timeline entry that counted this send ("went to 12 more people"), written with it.
CREATE TABLE apology_sends (
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    recipient_key  TEXT NOT NULL,
    mailbox        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    started_at     TEXT,
    sent_at        TEXT,
    counted_at     TEXT,
    PRIMARY KEY (incident_id, recipient_key)
);
CREATE INDEX ix_apology_sends_status ON apology_sends (status);
