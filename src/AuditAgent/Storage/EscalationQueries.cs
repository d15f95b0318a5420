using Dapper;

namespace AuditAgent.Storage;

/// <summary>What the escalation job decides from: open incidents with their plans, what was already sent, who the senders are.</summary>
/// <param name="SenderNames">The display name each incident's sender used, from its messages (null when none was given).</param>
/// <param name="MailboxIds">The directory id of each sender that is a scanned mailbox; other senders are looked up by address.</param>
public sealed record EscalationInputs(
    IReadOnlyList<IncidentRow> Incidents,
    ILookup<long, PlanStepRow> Steps,
    HashSet<string> AlreadyQueued,
    IReadOnlyDictionary<string, string> MailboxIds,
    IReadOnlyDictionary<long, string?> SenderNames);

public sealed class EscalationQueries(Database database)
{
    public async Task<EscalationInputs> LoadAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var incidents = (await c.QueryAsync<IncidentRow>(database.Command($"SELECT * FROM incidents WHERE {SqlFragments.OpenIncident()} ORDER BY id", ct: ct))).ToList();
        var steps = (await c.QueryAsync<PlanStepRow>(database.Command(
            $"SELECT s.* FROM plan_steps s JOIN incidents i ON i.id = s.incident_id WHERE {SqlFragments.OpenIncident("i.status")} ORDER BY s.position", ct: ct))).ToLookup(s => s.IncidentId);
        var queued = (await c.QueryAsync<string>(database.Command("SELECT dedupe_key FROM outbox WHERE kind = 'escalation'", ct: ct))).ToHashSet(StringComparer.Ordinal);
        var mailboxIds = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (address, id) in await c.QueryAsync<(string, string)>(database.Command("SELECT address, id FROM mailboxes", ct: ct)))
        {
            mailboxIds.TryAdd(address, id);
        }

        var names = (await c.QueryAsync<(long IncidentId, string? Name)>(database.Command(
            $"""
            SELECT f.incident_id, MIN(f.sender_name) FROM findings f JOIN incidents i ON i.id = f.incident_id
            WHERE {SqlFragments.OpenIncident("i.status")} GROUP BY f.incident_id
            """, ct: ct))).ToDictionary(x => x.IncidentId, x => x.Name);
        return new EscalationInputs(incidents, steps, queued, mailboxIds, names);
    }
}
