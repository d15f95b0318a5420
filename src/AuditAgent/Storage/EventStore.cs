using System.Data.Common;
using System.Text.Json;
using AuditAgent.Core.Events;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>An event about one incident, with what only this event knows (a threshold, a step) and, for events announced because time passed, the key that makes it once only.</summary>
public sealed record IncidentEvent(long IncidentId, string Type, object? Details = null, string? OnceKey = null);

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
    internal Task AppendIncidentEventsAsync(DbConnection c, DbTransaction tx, IReadOnlyCollection<(long IncidentId, string Type)> events, DateTimeOffset at, CancellationToken ct) =>
        AppendIncidentEventsAsync(c, tx, [.. events.Select(e => new IncidentEvent(e.IncidentId, e.Type))], at, ct);

    /// <summary>As above; an event whose <see cref="IncidentEvent.OnceKey"/> was already used is skipped. Returns how many were written.</summary>
    internal async Task<int> AppendIncidentEventsAsync(DbConnection c, DbTransaction tx, IReadOnlyCollection<IncidentEvent> events, DateTimeOffset at, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        var incidents = new Dictionary<long, IncidentRow>();
        var nextSteps = new Dictionary<long, NextStep>();
        foreach (var chunk in events.Select(e => e.IncidentId).Distinct().Chunk(500))
        {
            foreach (var row in await c.QueryAsync<IncidentRow>(database.Command($"SELECT * FROM incidents WHERE {database.InList("id", "chunk")}", new { chunk }, tx, ct)))
            {
                incidents[row.Id] = row;
            }

            // The plan's next step: the first still to do, by position.
            foreach (var step in await c.QueryAsync<(long IncidentId, string Title, string Owner, DateTimeOffset DueAt)>(database.Command(
                $"SELECT incident_id, title, owner, due_at FROM plan_steps WHERE {database.InList("incident_id", "chunk")} AND {SqlFragments.StepTodo()} ORDER BY incident_id, position",
                new { chunk }, tx, ct)))
            {
                nextSteps.TryAdd(step.IncidentId, new NextStep(step.Title, step.Owner, step.DueAt));
            }
        }

        await InOrderAsync(c, tx, ct);
        return await c.ExecuteAsync(database.Command(
            "INSERT INTO events (type, occurred_at, incident_id, payload, dedupe_key) VALUES (@Type, @At, @IncidentId, @Payload, @OnceKey) ON CONFLICT (dedupe_key) DO NOTHING",
            events.Where(e => incidents.ContainsKey(e.IncidentId)).Select(e => new
            {
                e.Type, At = at, e.IncidentId, e.OnceKey,
                Payload = JsonSerializer.Serialize(Snapshot(incidents[e.IncidentId], nextSteps.GetValueOrDefault(e.IncidentId), e.Details), Json),
            }),
            tx, ct));
    }

    /// <summary>The time-based events: the 72-hour clock of each incident without a breach decision at 24 h and at 6 h left (from awareness), and each plan step past due, once each.</summary>
    public async Task<int> AnnounceDeadlinesAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var undecided = SqlFragments.DecisionMissing();
        var due = new List<IncidentEvent>();
        foreach (var hours in new[] { 24, 6 })
        {
            var (from, until) = (now - Core.Incidents.NotificationClock.Window, now.AddHours(hours) - Core.Incidents.NotificationClock.Window);
            var ids = await c.QueryAsync<(long Id, DateTimeOffset DetectedAt, DateTimeOffset? AwareAt)>(database.Command(
                $"SELECT id, detected_at, aware_at FROM incidents WHERE {undecided} AND {SqlFragments.Awareness()} > @from AND {SqlFragments.Awareness()} <= @until", new { from, until }, tx, ct));
            // Once per clock: a decision that moves awareness starts a new one.
            due.AddRange(ids.Select(i => new IncidentEvent(i.Id, EventTypes.NotificationDeadlineNear,
                new { hoursLeftAtMost = hours, dueAt = Core.Incidents.NotificationClock.DueAt(i.AwareAt ?? i.DetectedAt) },
                $"deadline:{i.Id}:{hours}h" + (i.AwareAt is { } aware ? $":{aware.UtcTicks}" : ""))));
        }

        var steps = await c.QueryAsync<(long IncidentId, string StepKey, string Title, string Owner, DateTimeOffset DueAt)>(database.Command(
            $"""
            SELECT s.incident_id, s.step_key, s.title, s.owner, s.due_at FROM plan_steps s JOIN incidents i ON i.id = s.incident_id
            WHERE {SqlFragments.OpenIncident("i.status")} AND {SqlFragments.StepTodo("s.status")} AND s.due_at < @now
            """,
            new { now }, tx, ct));
        due.AddRange(steps.Select(s => new IncidentEvent(s.IncidentId, EventTypes.StepOverdue,
            new { step = s.StepKey, title = s.Title, owner = s.Owner, dueAt = s.DueAt }, $"overdue:{s.IncidentId}:{s.StepKey}:{s.DueAt.UtcTicks}")));
        var written = await AppendIncidentEventsAsync(c, tx, due, now, ct);
        await tx.CommitAsync(ct);
        return written;
    }

    /// <summary>
    /// What health brings: a mailbox that has failed every scan for a day (once per failing spell) and, on a
    /// cluster, an agent that stopped checking in without stopping (once per silence).
    /// </summary>
    public async Task<int> AnnounceHealthAsync(DateTimeOffset now, TimeSpan agentLostAfter, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var failing = await c.QueryAsync<(string Address, DateTimeOffset Since, string? Error)>(database.Command(
            """
            SELECT address, COALESCE(last_synced_at, first_seen_at), last_error FROM mailboxes
            WHERE last_error_at IS NOT NULL AND (last_synced_at IS NULL OR last_error_at > last_synced_at)
              AND COALESCE(last_synced_at, first_seen_at) < @dayAgo
            """,
            new { dayAgo = now.AddDays(-1) }, ct: ct));
        var due = failing.Select(m => (EventTypes.MailboxFailing, (object)new { mailbox = m.Address, since = m.Since, error = m.Error }, $"failing:{m.Address}:{m.Since.UtcTicks}")).ToList();
        if (database.IsPostgreSql)
        {
            var lost = await c.QueryAsync<(string Id, DateTimeOffset LastSeenAt)>(database.Command(
                "SELECT id, last_seen_at FROM agent_instances WHERE stopped_at IS NULL AND last_seen_at < @before",
                new { before = now - agentLostAfter }, ct: ct));
            due.AddRange(lost.Select(a => (EventTypes.AgentLost, (object)new { agent = a.Id, lastSeenAt = a.LastSeenAt }, $"lost:{a.Id}:{a.LastSeenAt.UtcTicks}")));
        }

        var written = 0;
        foreach (var (type, details, key) in due)
        {
            written += await AppendAsync(type, details, now, key, ct);
        }

        return written;
    }

    /// <summary>An event that is not about one incident (a failed scan, say); with a key, at most once per key. Returns 1 when written.</summary>
    public async Task<int> AppendAsync(string type, object details, DateTimeOffset at, string? onceKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await InOrderAsync(c, tx, ct);
        var written = await c.ExecuteAsync(database.Command(
            "INSERT INTO events (type, occurred_at, incident_id, payload, dedupe_key) VALUES (@type, @at, NULL, @payload, @onceKey) ON CONFLICT (dedupe_key) DO NOTHING",
            new { type, at, onceKey, payload = JsonSerializer.Serialize(new { schemaVersion = EventTypes.SchemaVersion, details }, Json) }, tx, ct));
        await tx.CommitAsync(ct);
        return written;
    }

    /// <summary>
    /// On PostgreSQL, event ids come from a sequence at insert time but become visible at commit: two
    /// transactions could commit ids 6 then 5, and a reader that saw 6 would never see 5. Writers of events
    /// take this lock until they commit, so ids become visible in order (SQLite has one writer at a time).
    /// </summary>
    private async Task InOrderAsync(DbConnection c, DbTransaction tx, CancellationToken ct)
    {
        if (database.IsPostgreSql)
        {
            await c.ExecuteAsync(database.Command("SELECT pg_advisory_xact_lock(@key)", new { key = LockKeys.EventAppend }, tx, ct));
        }
    }

    /// <summary>These events, in id order (dead letters asked for again).</summary>
    public async Task<IReadOnlyList<EventRecord>> ByIdAsync(IReadOnlyList<long> ids, bool includeSubjects, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        return await ReadAsync(database.InList("e.id", "ids"), new { ids }, 1000, includeSubjects, ct);
    }

    /// <summary>Events after <paramref name="after"/>, oldest first; a consumer that keeps the last id never misses or repeats one.</summary>
    public Task<IReadOnlyList<EventRecord>> ListAsync(long after, int limit, bool includeSubjects, CancellationToken ct) =>
        ReadAsync("e.id > @after", new { after }, limit, includeSubjects, ct);

    /// <summary>Events matching <paramref name="where"/>, in id order, with the incident's subject when asked.</summary>
    private async Task<IReadOnlyList<EventRecord>> ReadAsync(string where, object parameters, int limit, bool includeSubjects, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(long Id, string Type, DateTimeOffset OccurredAt, long? IncidentId, string Payload, string? Subject)>(database.Command(
            $"""
            SELECT e.id, e.type, e.occurred_at, e.incident_id, e.payload, {(includeSubjects ? "i.subject" : "NULL")}
            FROM events e LEFT JOIN incidents i ON i.id = e.incident_id
            WHERE {where} ORDER BY e.id LIMIT {Math.Clamp(limit, 1, 1000)}
            """,
            parameters, ct: ct));
        return rows.Select(r => new EventRecord(r.Id, r.Type, r.OccurredAt, r.IncidentId, JsonDocument.Parse(r.Payload).RootElement.Clone(), r.Subject)).ToList();
    }

    private sealed record NextStep(string Title, string Owner, DateTimeOffset DueAt);

    private static object Snapshot(IncidentRow i, NextStep? next, object? details) => details is null
        ? new { schemaVersion = EventTypes.SchemaVersion, incident = Incident(i, next) }
        : new { schemaVersion = EventTypes.SchemaVersion, details, incident = Incident(i, next) };

    private static object Incident(IncidentRow i, NextStep? next) => new
    {
        id = i.Id,
        severity = i.Severity,
        status = i.Status,
        sender = i.SenderAddress,
        sentAs = i.SentAs,
        assignee = i.Assignee,
        exposed = i.ExposedCount,
        personal = i.PersonalCount,
        domains = i.DomainCount,
        messages = i.BlastMessages,
        reExposed = i.ReExposed,
        repeatSender = i.RepeatSender,
        repliesToAll = i.ReplyAllCount,
        sensitiveCategories = i.SensitiveCategories,
        firstSentAt = i.FirstSentAt,
        detectedAt = i.DetectedAt,
        awareAt = i.Awareness,
        notificationDueAt = i.NotificationDueAt,
        decidedAt = i.DecidedAt,
        reasons = JsonSerializer.Deserialize<string[]>(i.Reasons) ?? [],
        nextStep = next is null ? null : new { title = next.Title, owner = next.Owner, dueAt = next.DueAt },
    };
}
