using Dapper;

namespace AuditAgent.Storage;

/// <summary>
/// The recorded data step after the schema scripts that added the chain: timeline entries written before it are
/// chained once, in their order, so that every incident verifies from its first entry. Safe to run on every
/// start and by several agents at once (each computes the same hashes).
/// </summary>
public sealed class TimelineChainUpgrade(Database database)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var chained = 0;
        while (true)
        {
            await using var c = await database.OpenAsync(ct);
            await using var tx = await c.BeginTransactionAsync(ct);
            var incidents = (await c.QueryAsync<long>(database.Command(
                "SELECT DISTINCT incident_id FROM incident_events WHERE hash IS NULL ORDER BY incident_id LIMIT 500", tx: tx, ct: ct))).ToList();
            if (incidents.Count == 0)
            {
                return chained;
            }

            foreach (var id in incidents)
            {
                var entries = await c.QueryAsync<(long Id, DateTimeOffset At, string Actor, string Kind, string Text)>(database.Command(
                    "SELECT id, at, actor, kind, text FROM incident_events WHERE incident_id = @id ORDER BY id", new { id }, tx, ct));
                string? head = null;
                foreach (var e in entries)
                {
                    var hash = TimelineChain.Hash(head, id, e.At, e.Actor, e.Kind, e.Text);
                    await c.ExecuteAsync(database.Command("UPDATE incident_events SET prev_hash = @head, hash = @hash WHERE id = @Id", new { head, hash, e.Id }, tx, ct));
                    head = hash;
                }

                await c.ExecuteAsync(database.Command("UPDATE incidents SET chain_head = @head WHERE id = @id", new { head, id }, tx, ct));
                chained++;
            }

            await tx.CommitAsync(ct);
        }
    }
}
