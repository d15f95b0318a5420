using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>An entry to add to an incident's timeline.</summary>
public sealed record TimelineAppend(long IncidentId, DateTimeOffset At, string Actor, string Kind, string Text);

/// <summary>
/// Every incident's timeline as a hash chain, the one way entries are written: each entry's hash is SHA-256 over
/// the previous entry's hash and its own canonical content, the link it was written with is kept (prev_hash),
/// and the incident keeps the newest (chain_head). Appending locks the incident's row, so two writers never
/// fork a chain. <see cref="Verify"/> finds the first entry that was changed, removed or reordered.
/// </summary>
public static class TimelineChain
{
    /// <summary>SHA-256 (hex) of the previous hash and the entry: incident, time (UTC, milliseconds, as stored), actor, kind, text.</summary>
    public static string Hash(string? previous, long incidentId, DateTimeOffset at, string actor, string kind, string text)
    {
        var canonical = string.Join('\u001f',
            previous ?? "", incidentId.ToString(CultureInfo.InvariantCulture), at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), actor, kind, text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static async Task AppendAsync(DbConnection c, DbTransaction tx, Database database, IEnumerable<TimelineAppend> entries, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(database);
        foreach (var incident in entries.GroupBy(e => e.IncidentId))
        {
            var id = incident.Key;
            var head = await c.ExecuteScalarAsync<string?>(database.Command($"SELECT chain_head FROM incidents WHERE id = @id {database.ForUpdate}", new { id }, tx, ct));
            foreach (var e in incident)
            {
                var hash = Hash(head, id, e.At, e.Actor, e.Kind, e.Text);
                await c.ExecuteAsync(database.Command(
                    "INSERT INTO incident_events (incident_id, at, actor, kind, text, prev_hash, hash) VALUES (@id, @At, @Actor, @Kind, @Text, @head, @hash)",
                    new { id, e.At, e.Actor, e.Kind, e.Text, head, hash }, tx, ct));
                head = hash;
            }

            await c.ExecuteAsync(database.Command("UPDATE incidents SET chain_head = @head WHERE id = @id", new { head, id }, tx, ct));
        }
    }

    /// <summary>A stored timeline entry with its chain columns.</summary>
    public sealed record ChainedEntry(long Id, long IncidentId, DateTimeOffset At, string Actor, string Kind, string Text, string? PrevHash, string? Hash);

    /// <summary>What verifying one incident's chain found: null when intact.</summary>
    public static string? Verify(IReadOnlyList<ChainedEntry> entries, string? head)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var hashes = entries.Select(e => e.Hash).ToList();
        string? previous = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var where = $"entry {i + 1} (#{e.Id}, {e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, {e.Kind})";
            if (e.PrevHash != previous)
            {
                return hashes.IndexOf(e.PrevHash) > i
                    ? $"{where} is out of order: it was written after an entry that now comes later"
                    : $"{where} follows an entry that was removed or changed (its link points to a hash no entry before it has)";
            }

            if (Hash(previous, e.IncidentId, e.At, e.Actor, e.Kind, e.Text) != e.Hash)
            {
                return $"{where} was changed: its content no longer matches its hash";
            }

            previous = e.Hash;
        }

        return previous == head ? null : "the newest entries were removed: the incident's chain head is a hash no entry has";
    }
}
