-- Events announced because time passed (a 72-hour clock running out, a plan step overdue) carry a key, so
-- that however often and on however many agents the watch runs, each is announced once.
ALTER TABLE events ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX ux_events_dedupe_key ON events (dedupe_key);
