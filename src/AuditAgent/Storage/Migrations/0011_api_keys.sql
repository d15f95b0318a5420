-- Keys for the events API (`auditagent apikeys create`): only a SHA-256 hash of each key is kept (the key is
-- 32 random bytes, shown once), with who it is for, when it expires and whether it was revoked.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT
);
