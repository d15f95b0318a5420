using System.Data.Common;
using System.Text.Json;
using AuditAgent.Core.Events;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>One event as a consumer reads it: the stored payload, plus the subject when configured.</summary>
public sealed record EventRecord(long Id, string Type, DateTimeOffset OccurredAt, long? IncidentId, JsonElement Payload, string? Subject);

/// <summary>
/// The event stream: appended in the transaction of the change it reports (so a change and its event
/// exist together or not at all), read in id order after the last id a consumer saw.
/// </summary>
public sealed class EventStore(Database database)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Events about incidents, each with a snapshot of the incident as it is now in this transaction: counts,
    /// sender, times, status and severity; never an exposed address, never the subject.
    /// </summary>
    internal async Task AppendIncidentEventsAsync(DbConnection c, DbTransaction tx, IReadOnlyCollection<(long IncidentId, string Type)> events, DateTimeOffset at, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return;
        }

        var incidents = new Dictionary<long, IncidentRow>();
        foreach (var chunk in events.Select(e => e.IncidentId).Distinct().Chunk(500))
        {
            foreach (var row in await c.QueryAsync<IncidentRow>(database.Command($"SELECT * FROM incidents WHERE {database.InList("id", "chunk")}", new { chunk }, tx, ct)))
            {
                incidents[row.Id] = row;
            }
        }

        await c.ExecuteAsync(database.Command(
            "INSERT INTO events (type, occurred_at, incident_id, payload) VALUES (@Type, @At, @IncidentId, @Payload)",
            events.Where(e => incidents.ContainsKey(e.IncidentId)).Select(e => new
            {
                e.Type, At = at, e.IncidentId,
                Payload = JsonSerializer.Serialize(Snapshot(incidents[e.IncidentId]), Json),
            }),
            tx, ct));
    }

    /// <summary>An event that is not about one incident (a failed scan, say).</summary>
    public async Task AppendAsync(string type, object details, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "INSERT INTO events (type, occurred_at, incident_id, payload) VALUES (@type, @at, NULL, @payload)",
            new { type, at, payload = JsonSerializer.Serialize(new { schemaVersion = EventTypes.SchemaVersion, details }, Json) }, ct: ct));
    }

    /// <summary>Events after <paramref name="after"/>, oldest first; a consumer that keeps the last id never misses or repeats one.</summary>
    public async Task<IReadOnlyList<EventRecord>> ListAsync(long after, int limit, bool includeSubjects, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(long Id, string Type, DateTimeOffset OccurredAt, long? IncidentId, string Payload, string? Subject)>(database.Command(
            $"""
            SELECT e.id, e.type, e.occurred_at, e.incident_id, e.payload, {(includeSubjects ? "i.subject" : "NULL")}
            FROM events e LEFT JOIN incidents i ON i.id = e.incident_id
            WHERE e.id > @after ORDER BY e.id LIMIT {Math.Clamp(limit, 1, 1000)}
            """,
            new { after }, ct: ct));
        return rows.Select(r => new EventRecord(r.Id, r.Type, r.OccurredAt, r.IncidentId, JsonDocument.Parse(r.Payload).RootElement.Clone(), r.Subject)).ToList();
    }

    private static object Snapshot(IncidentRow i) => new
    {
        schemaVersion = EventTypes.SchemaVersion,
        incident = new
        {
            id = i.Id,
            severity = i.Severity,
            status = i.Status,
            sender = i.SenderAddress,
            assignee = i.Assignee,
            exposed = i.ExposedCount,
            personal = i.PersonalCount,
            domains = i.DomainCount,
            messages = i.BlastMessages,
            reExposed = i.ReExposed,
            repeatSender = i.RepeatSender,
            firstSentAt = i.FirstSentAt,
            detectedAt = i.DetectedAt,
            notificationDueAt = Core.Incidents.NotificationClock.DueAt(i.DetectedAt),
        },
    };
}
