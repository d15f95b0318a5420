-- As SQLite's 0014_dead_letter_redelivery.sql.
ALTER TABLE event_dead_letters ADD COLUMN redeliver BOOLEAN NOT NULL DEFAULT FALSE;
