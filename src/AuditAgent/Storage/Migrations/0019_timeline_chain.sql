-- Each incident's timeline is a hash chain: an entry's hash covers the previous entry's hash and its own
-- content (incident, time, actor, kind, text), prev_hash keeps the link it was written with, and the incident
-- keeps the newest hash (chain_head). A changed, removed or reordered entry, or a cut-off tail, no longer
-- verifies (incidents verify). Entries written before this are chained once by the agent's upgrade step.
ALTER TABLE incident_events ADD COLUMN prev_hash TEXT;
ALTER TABLE incident_events ADD COLUMN hash TEXT;
ALTER TABLE incidents ADD COLUMN chain_head TEXT;
