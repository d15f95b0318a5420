using AuditAgent.Storage;
using Dapper;

namespace AuditAgent.Protection;

/// <summary>The ring in use and how many stored values each key id seals (the hash key included).</summary>
public sealed record KeyRingReport(KeyRing Ring, IReadOnlyDictionary<string, int> SealedBy)
{
    /// <summary>Keys that seal stored values but are not in the ring: those values cannot be read.</summary>
    public IReadOnlyList<string> Missing => SealedBy.Keys.Except(Ring.Ids).ToList();

    /// <summary>Older keys of the ring that still seal values (`keys rewrap` moves them to the current key).</summary>
    public IReadOnlyList<string> Older => Ring.Ids.Where(id => id != Ring.CurrentId && SealedBy.GetValueOrDefault(id) > 0).ToList();
}

/// <summary>
/// Uses the key ring (from <see cref="KeyRingSource"/>) with the database's hash key, loaded once per
/// process: seals and hashes recipients, reports what each key seals, re-seals with the current key.
/// </summary>
public sealed class RecipientProtector(
    Database database,
    KeyRingSource source) : IDisposable
{
    internal const string HashKeyContext = "recipient-hash-key";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RecipientCipher? _cipher;

    public void Dispose()
    {
        _gate.Dispose();
        _cipher?.Dispose();
    }

    public async Task<RecipientCipher> GetAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _cipher) is { } cipher)
        {
            return cipher;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (_cipher is null)
            {
                var ring = await source.LoadAsync(ct);
                var loaded = new RecipientCipher(ring, await HashKeyAsync(ring, ct));
                Volatile.Write(ref _cipher, loaded);
            }

            return _cipher;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>How many stored values each key sealed (the hash key included), to know when an old key can go.</summary>
    public async Task<KeyRingReport> ReportAsync(CancellationToken ct)
    {
        var cipher = await GetAsync(ct);
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(string KeyId, int Count)>(database.Command(
            """
            SELECT substr(sealed, 4, 8), CAST(COUNT(*) AS INTEGER) FROM (
                SELECT sealed FROM exposed_recipients WHERE sealed <> ''
                UNION ALL SELECT value FROM meta WHERE key = 'recipient_hash_key') s
            GROUP BY substr(sealed, 4, 8)
            """, ct: ct));
        return new KeyRingReport(cipher.Ring, rows.ToDictionary(r => r.KeyId, r => r.Count, StringComparer.Ordinal));
    }

    /// <summary>
    /// Re-seals everything sealed with an older key with the current one, a thousand rows per
    /// transaction (safe to stop and run again). Afterwards the older keys can leave the ring.
    /// Keyed hashes do not change: incidents keep matching across a rotation.
    /// </summary>
    public async Task<int> RewrapAsync(CancellationToken ct)
    {
        var cipher = await GetAsync(ct);
        var current = $"p1.{cipher.Ring.CurrentId}.%";
        var total = 0;
        while (true)
        {
            await using var c = await database.OpenAsync(ct);
            await using var tx = await c.BeginTransactionAsync(ct);
            var batch = (await c.QueryAsync<(long FindingId, string MailboxId, string MessageId, string Key, string Sealed)>(database.Command(
                """
                SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.recipient_key, r.sealed
                FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id
                WHERE r.sealed NOT LIKE @current AND r.sealed <> '' LIMIT 1000
                """,
                new { current }, tx, ct))).ToList();
            if (batch.Count == 0)
            {
                var hashKey = await c.ExecuteScalarAsync<string>(database.Command(
                    "SELECT value FROM meta WHERE key = 'recipient_hash_key'", tx: tx, ct: ct));
                if (hashKey is not null && KeyRing.KeyIdOf(hashKey) != cipher.Ring.CurrentId)
                {
                    var resealed = cipher.Ring.Seal(cipher.Ring.Open(hashKey, HashKeyContext), HashKeyContext);
                    await c.ExecuteAsync(database.Command(
                        "UPDATE meta SET value = @resealed WHERE key = 'recipient_hash_key'", new { resealed }, tx, ct));
                    total++;
                }

                await tx.CommitAsync(ct);
                return total;
            }

            await c.ExecuteAsync(database.Command(
                "UPDATE exposed_recipients SET sealed = @Sealed WHERE finding_id = @FindingId AND recipient_key = @Key",
                batch.Select(r =>
                {
                    var context = RecipientCipher.Context(r.MailboxId, r.MessageId);
                    return new { r.FindingId, r.Key, Sealed = cipher.Ring.Seal(cipher.Ring.Open(r.Sealed, context), context) };
                }), tx, ct));
            await tx.CommitAsync(ct);
            total += batch.Count;
        }
    }

    /// <summary>Where the ring comes from, in words (for reports and errors).</summary>
    public string Source => source.Describe();

    /// <summary>The database's hash key: created (sealed with the current key) by the first agent that needs it.</summary>
    private async Task<byte[]> HashKeyAsync(KeyRing ring, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var fresh = ring.Seal(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), HashKeyContext);
        await c.ExecuteAsync(database.Command(
            "INSERT INTO meta (key, value) VALUES ('recipient_hash_key', @fresh) ON CONFLICT (key) DO NOTHING",
            new { fresh }, ct: ct));
        var stored = await c.ExecuteScalarAsync<string>(database.Command(
            "SELECT value FROM meta WHERE key = 'recipient_hash_key'", ct: ct));
        try
        {
            return ring.Open(stored!, HashKeyContext);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new InvalidOperationException($"The stored addresses in {database.Path} cannot be read with the key ring from {Source}: {ex.Message}", ex);
        }
    }
}
