-- As SQLite's 0009_console_keys.sql: the console's Data Protection keys, sealed with the key ring.
CREATE TABLE console_keys (
    name        TEXT PRIMARY KEY,
    xml         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
