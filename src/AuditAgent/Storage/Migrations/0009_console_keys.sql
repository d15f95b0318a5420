-- The console's ASP.NET Core Data Protection keys (sign-in cookies, antiforgery tokens), shared by every
-- instance using this database so that one behind a load balancer accepts another's cookie. Each key's XML
-- is sealed with the key ring (Web/ConsoleKeys) before it is stored.
CREATE TABLE console_keys (
    name        TEXT PRIMARY KEY,
    xml         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
