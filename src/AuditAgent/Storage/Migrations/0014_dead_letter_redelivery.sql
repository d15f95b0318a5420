-- `events redeliver` asks for a sink's dead letters to be sent again: the pusher sends the requested
-- ones before new events and removes each one the receiver takes.
ALTER TABLE event_dead_letters ADD COLUMN redeliver INTEGER NOT NULL DEFAULT 0;
