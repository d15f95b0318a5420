using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace AuditAgent.Storage;

public sealed record ApiKeyRow
{
    public long Id { get; init; }

    public string Name { get; init; } = "";

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    public bool IsUsable(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>
/// Keys for the events API: made of 32 random bytes, shown once, kept only as a SHA-256 hash (a key that
/// long needs no slow hash), expiring and revocable.
/// </summary>
public sealed class ApiKeyStore(Database database)
{
    private const string Prefix = "aak_";
    private const string Columns = "SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM api_keys";

    /// <summary>Creates a key and returns it: the only time it can be read.</summary>
    public async Task<(long Id, string Key)> CreateAsync(string name, DateTimeOffset? expiresAt, DateTimeOffset now, CancellationToken ct)
    {
        var key = Prefix + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        await using var c = await database.OpenAsync(ct);
        var id = await c.ExecuteScalarAsync<long>(database.Command(
            "INSERT INTO api_keys (name, hash, created_at, expires_at) VALUES (@name, @hash, @now, @expiresAt) RETURNING id",
            new { name, hash = Hash(key), now, expiresAt }, ct: ct));
        return (id, key);
    }

    public async Task<IReadOnlyList<ApiKeyRow>> ListAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<ApiKeyRow>(database.Command(
            $"{Columns} ORDER BY id", ct: ct))).ToList();
    }

    public async Task RevokeAsync(long id, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        if (await c.ExecuteAsync(database.Command("UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", new { id, now }, ct: ct)) == 0)
        {
            throw new NotFoundException($"there is no usable API key {id}.");
        }
    }

    /// <summary>The key's name when it is known, not expired and not revoked (its use is recorded); null otherwise.</summary>
    public async Task<string?> VerifyAsync(string? key, DateTimeOffset now, CancellationToken ct)
    {
        if (key is null || !key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 100)
        {
            return null;
        }

        await using var c = await database.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<ApiKeyRow>(database.Command(
            $"{Columns} WHERE hash = @hash", new { hash = Hash(key) }, ct: ct));
        if (row is null || !row.IsUsable(now))
        {
            return null;
        }

        await c.ExecuteAsync(database.Command("UPDATE api_keys SET last_used_at = @now WHERE id = @Id", new { now, row.Id }, ct: ct));
        return row.Name;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
