-- As SQLite's 0019_timeline_chain.sql.
ALTER TABLE incident_events ADD COLUMN prev_hash TEXT;
ALTER TABLE incident_events ADD COLUMN hash TEXT;
ALTER TABLE incidents ADD COLUMN chain_head TEXT;
