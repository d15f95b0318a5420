using Dapper;

namespace AuditAgent.Storage;

/// <summary>Verifying the incidents' timelines against their hash chains.</summary>
public sealed partial class IncidentStore
{
    /// <summary>Each incident's verdict (null problem: intact) and how many entries it has; all incidents when <paramref name="ids"/> is empty.</summary>
    public async Task<IReadOnlyList<ChainVerdict>> VerifyAsync(IReadOnlyCollection<long> ids, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ids);
        await using var c = await database.OpenAsync(ct);
        var heads = (await c.QueryAsync<(long Id, string? Head)>(database.Command(
            ids.Count == 0 ? "SELECT id, chain_head FROM incidents ORDER BY id" : $"SELECT id, chain_head FROM incidents WHERE id IN ({string.Join(',', ids)}) ORDER BY id",
            ct: ct))).ToList();
        var missing = ids.Except(heads.Select(h => h.Id)).ToList();
        if (missing.Count > 0)
        {
            throw new NotFoundException($"there is no incident {string.Join(", ", missing)}.");
        }

        var verdicts = new List<ChainVerdict>(heads.Count);
        // One pass over the timeline, in incident and entry order, a page of incidents at a time.
        foreach (var page in heads.Chunk(1000))
        {
            var entries = (await c.QueryAsync<TimelineChain.ChainedEntry>(database.Command(
                $"SELECT id, incident_id, at, actor, kind, text, prev_hash, hash FROM incident_events WHERE incident_id >= @first AND incident_id <= @last ORDER BY incident_id, id",
                new { first = page[0].Id, last = page[^1].Id }, ct: ct))).ToLookup(e => e.IncidentId);
            foreach (var (id, head) in page)
            {
                var chain = entries[id].ToList();
                verdicts.Add(new ChainVerdict(id, chain.Count, TimelineChain.Verify(chain, head)));
            }
        }

        return verdicts;
    }
}

/// <summary>One incident's timeline verified: intact when <see cref="Problem"/> is null.</summary>
public sealed record ChainVerdict(long IncidentId, int Entries, string? Problem);
