using System.Text.Json;
using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

public sealed record PlanStepRow
{
    public long IncidentId { get; init; }

    public string StepKey { get; init; } = "";

    public int Position { get; init; }

    public string Title { get; init; } = "";

    public string Why { get; init; } = "";

    public string Owner { get; init; } = "";

    public string? Instructions { get; init; }

    public string Condition { get; init; } = "";

    public DateTimeOffset DueAt { get; init; }

    public DateTimeOffset AddedAt { get; init; }

    public string Status { get; init; } = StepStatus.Todo.Name();

    public string? StatusBy { get; init; }

    public DateTimeOffset? StatusAt { get; init; }

    public string? Note { get; init; }

    public bool IsTodo => Status == StepStatus.Todo.Name();

    public bool IsOverdue(DateTimeOffset now) => IsTodo && DueAt < now;
}

public sealed record EventRow
{
    public long Id { get; init; }

    public long IncidentId { get; init; }

    public DateTimeOffset At { get; init; }

    public string Actor { get; init; } = "";

    public string Kind { get; init; } = "";

    public string Text { get; init; } = "";
}

public sealed record IncidentMessageRow
{
    public long Id { get; init; }

    public string MailboxAddress { get; init; } = "";

    public string GraphMessageId { get; init; } = "";

    public string? InternetMessageId { get; init; }

    public string? Subject { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public string SenderAddress { get; init; } = "";

    public int VisibleExternalCount { get; init; }

    public int ExternalDomainCount { get; init; }

    public int BccCount { get; init; }

    public string? Role { get; init; }
}

public sealed record IncidentDetail(
    IncidentRow Incident,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<IncidentMessageRow> Messages,
    IReadOnlyList<PlanStepRow> Steps,
    IReadOnlyList<EventRow> Timeline);

/// <summary>Reads incidents for people: lists, the detail of one, evidence.</summary>
/// <summary>Which incidents a list shows; null parts match everything.</summary>
/// <param name="OverdueAt">Only open incidents with a step to do that was due before this moment.</param>
public sealed record IncidentFilter(
    string? Status = null,
    string? Severity = null,
    string? Sender = null,
    string? Assignee = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? OverdueAt = null);

public sealed class IncidentQueries(Database database, Protection.RecipientProtector protector)
{
    public Task<IReadOnlyList<IncidentRow>> ListAsync(string? status, string? severity, CancellationToken ct) =>
        ListAsync(new IncidentFilter(status, severity), ct);

    /// <summary>Incidents matching every part of the filter given, the most severe first, then the newest.</summary>
    public async Task<IReadOnlyList<IncidentRow>> ListAsync(IncidentFilter filter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<IncidentRow>(new CommandDefinition(
            $"""
            SELECT * FROM incidents
            WHERE (@Status IS NULL OR status = @Status) AND (@Severity IS NULL OR severity = @Severity)
              AND (@Sender IS NULL OR LOWER(sender_address) = LOWER(@Sender)) AND (@Assignee IS NULL OR LOWER(assignee) = LOWER(@Assignee))
              AND (@Since IS NULL OR detected_at >= @Since)
              AND (@OverdueAt IS NULL OR ({SqlFragments.OpenIncident()} AND EXISTS (
                  SELECT 1 FROM plan_steps s WHERE s.incident_id = incidents.id AND {SqlFragments.StepTodo("s.status")} AND s.due_at < @OverdueAt)))
            ORDER BY {SqlFragments.SeverityRank()}, detected_at DESC, id DESC
            """,
            new { filter.Status, filter.Severity, filter.Sender, filter.Assignee, filter.Since, filter.OverdueAt },
            commandTimeout: database.CommandTimeout,
            cancellationToken: ct));
        return rows.ToList();
    }

    public async Task<ILookup<long, string>> MessageIdsAsync(IReadOnlyCollection<long> incidentIds, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = new List<(long IncidentId, string MessageId)>();
        foreach (var chunk in incidentIds.Chunk(500))
        {
            rows.AddRange(await c.QueryAsync<(long, string)>(new CommandDefinition(
                $"""
                SELECT DISTINCT incident_id, COALESCE(internet_message_id, graph_message_id)
                FROM findings WHERE {database.InList("incident_id", "chunk")} ORDER BY 1, 2
                """,
                new { chunk }, commandTimeout: database.CommandTimeout, cancellationToken: ct)));
        }

        return rows.ToLookup(r => r.IncidentId, r => r.MessageId);
    }

    public async Task<IncidentDetail?> GetAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var incident = await c.QuerySingleOrDefaultAsync<IncidentRow>(new CommandDefinition(
            "SELECT * FROM incidents WHERE id = @id", new { id }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        if (incident is null)
        {
            return null;
        }

        var messages = await c.QueryAsync<IncidentMessageRow>(new CommandDefinition(
            """
            SELECT f.id, m.address AS mailbox_address, f.graph_message_id, f.internet_message_id, f.subject, f.sent_at, f.sender_address,
                   f.visible_external_count, f.external_domain_count, f.bcc_count, f.role
            FROM findings f JOIN mailboxes m ON m.id = f.mailbox_id
            WHERE f.incident_id = @id ORDER BY f.sent_at, f.id
            """,
            new { id }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        var steps = await c.QueryAsync<PlanStepRow>(new CommandDefinition(
            "SELECT * FROM plan_steps WHERE incident_id = @id ORDER BY position, added_at", new { id }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        var events = await c.QueryAsync<EventRow>(new CommandDefinition(
            "SELECT * FROM incident_events WHERE incident_id = @id ORDER BY id", new { id }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        return new IncidentDetail(
            incident,
            JsonSerializer.Deserialize<List<string>>(incident.Reasons) ?? [],
            messages.ToList(),
            steps.ToList(),
            events.ToList());
    }

    /// <summary>How many people of each domain an incident exposed, from the keyed hashes: no address is read.</summary>
    public async Task<IReadOnlyList<(string Domain, int Count)>> ExposedDomainsAsync(long incidentId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(string Domain, int Count)>(new CommandDefinition(
            """
            SELECT r.domain, CAST(COUNT(DISTINCT r.recipient_key) AS INTEGER)
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @incidentId AND f.role IN ('blast', 're-exposure')
            GROUP BY r.domain
            """,
            new { incidentId }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        return rows.ToList();
    }

    /// <summary>The exposed people of an incident: personal data, opened only when a person asks for it.</summary>
    public async Task<IReadOnlyList<RecipientRow>> ExposedRecipientsAsync(long incidentId, CancellationToken ct)
    {
        var cipher = await protector.GetAsync(ct);
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(long FindingId, string MailboxId, string MessageId, string Key, string Field, string Sealed)>(new CommandDefinition(
            """
            SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.recipient_key, r.field, r.sealed
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @incidentId AND f.role IN ('blast', 're-exposure')
            ORDER BY f.sent_at, f.id
            """,
            new { incidentId }, commandTimeout: database.CommandTimeout, cancellationToken: ct));
        return rows.DistinctBy(r => r.Key).Select(r => Open(cipher, r.FindingId, r.MailboxId, r.MessageId, r.Field, r.Sealed))
            .OrderBy(r => r.Address, StringComparer.Ordinal).ToList();
    }

    internal static RecipientRow Open(Protection.RecipientCipher cipher, long findingId, string mailboxId, string messageId, string field, string sealedValue)
    {
        var (address, name) = cipher.Open(mailboxId, messageId, sealedValue);
        return new RecipientRow { FindingId = findingId, Address = address, Name = name, Field = field };
    }
}
