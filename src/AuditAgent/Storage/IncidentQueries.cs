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

    /// <summary>The hash of the entry before it, as it was written (null for the first).</summary>
    public string? PrevHash { get; init; }

    /// <summary>SHA-256 over <see cref="PrevHash"/> and this entry (Storage/TimelineChain).</summary>
    public string? Hash { get; init; }
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
        // Only the parts given become conditions: a typed query, whatever the database infers of a null.
        var where = new List<string>();
        void When(object? value, string condition)
        {
            if (value is not null)
            {
                where.Add(condition);
            }
        }

        When(filter.Status, "status = @Status");
        When(filter.Severity, "severity = @Severity");
        When(filter.Sender, "LOWER(sender_address) = LOWER(@Sender)");
        When(filter.Assignee, "LOWER(assignee) = LOWER(@Assignee)");
        When(filter.Since, "detected_at >= @Since");
        When(filter.OverdueAt, $"{SqlFragments.OpenIncident()} AND EXISTS (SELECT 1 FROM plan_steps s WHERE s.incident_id = incidents.id AND {SqlFragments.StepTodo("s.status")} AND s.due_at < @OverdueAt)");
        var rows = await c.QueryAsync<IncidentRow>(database.Command(
            $"""
            SELECT * FROM incidents
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY {SqlFragments.SeverityRank()}, detected_at DESC, id DESC
            """,
            new { filter.Status, filter.Severity, filter.Sender, filter.Assignee, filter.Since, filter.OverdueAt },
            ct: ct));
        return rows.ToList();
    }

    public async Task<ILookup<long, string>> MessageIdsAsync(IReadOnlyCollection<long> incidentIds, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = new List<(long IncidentId, string MessageId)>();
        foreach (var chunk in incidentIds.Chunk(500))
        {
            rows.AddRange(await c.QueryAsync<(long, string)>(database.Command(
                $"""
                SELECT DISTINCT incident_id, COALESCE(internet_message_id, graph_message_id)
                FROM findings WHERE {database.InList("incident_id", "chunk")} ORDER BY 1, 2
                """,
                new { chunk }, ct: ct)));
        }

        return rows.ToLookup(r => r.IncidentId, r => r.MessageId);
    }

    public async Task<IncidentDetail?> GetAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var incident = await c.QuerySingleOrDefaultAsync<IncidentRow>(database.Command(
            "SELECT * FROM incidents WHERE id = @id", new { id }, ct: ct));
        if (incident is null)
        {
            return null;
        }

        var messages = await c.QueryAsync<IncidentMessageRow>(database.Command(
            """
            SELECT f.id, m.address AS mailbox_address, f.graph_message_id, f.internet_message_id, f.subject, f.sent_at, f.sender_address,
                   f.visible_external_count, f.external_domain_count, f.bcc_count, f.role
            FROM findings f JOIN mailboxes m ON m.id = f.mailbox_id
            WHERE f.incident_id = @id ORDER BY f.sent_at, f.id
            """,
            new { id }, ct: ct));
        var steps = await c.QueryAsync<PlanStepRow>(database.Command(
            "SELECT * FROM plan_steps WHERE incident_id = @id ORDER BY position, added_at", new { id }, ct: ct));
        var events = await c.QueryAsync<EventRow>(database.Command(
            "SELECT * FROM incident_events WHERE incident_id = @id ORDER BY id", new { id }, ct: ct));
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
        var rows = await c.QueryAsync<(string Domain, int Count)>(database.Command(
            $"""
            SELECT r.domain, CAST(COUNT(DISTINCT r.recipient_key) AS INTEGER)
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @incidentId AND {SqlFragments.ExposingRole("f.role")}
            GROUP BY r.domain
            """,
            new { incidentId }, ct: ct));
        return rows.ToList();
    }

    /// <summary>The exposed people of an incident: personal data, opened only when a person asks for it.</summary>
    public async Task<IReadOnlyList<RecipientRow>> ExposedRecipientsAsync(long incidentId, CancellationToken ct)
    {
        var cipher = await protector.GetAsync(ct);
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(long FindingId, string MailboxId, string MessageId, string Key, string Field, string Sealed)>(database.Command(
            $"""
            SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.recipient_key, r.field, r.sealed
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @incidentId AND {SqlFragments.ExposingRole("f.role")} AND r.sealed <> ''
            ORDER BY f.sent_at, f.id
            """,
            new { incidentId }, ct: ct));
        return rows.DistinctBy(r => r.Key).Select(r => Open(cipher, r.FindingId, r.MailboxId, r.MessageId, r.Field, r.Sealed))
            .OrderBy(r => r.Address, StringComparer.Ordinal).ToList();
    }

    /// <summary>One exposed person of the incident, by the keyed address, opened to send them the apology; null when no longer kept.</summary>
    public async Task<RecipientRow?> ExposedRecipientAsync(long incidentId, string recipientKey, CancellationToken ct)
    {
        var cipher = await protector.GetAsync(ct);
        await using var c = await database.OpenAsync(ct);
        var row = await c.QueryFirstOrDefaultAsync<(long FindingId, string MailboxId, string MessageId, string Field, string Sealed)?>(database.Command(
            $"""
            SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.field, r.sealed
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @incidentId AND r.recipient_key = @recipientKey AND {SqlFragments.ExposingRole("f.role")} AND r.sealed <> ''
            ORDER BY f.sent_at, f.id LIMIT 1
            """,
            new { incidentId, recipientKey }, ct: ct));
        return row is { } r ? Open(cipher, r.FindingId, r.MailboxId, r.MessageId, r.Field, r.Sealed) : null;
    }

    internal static RecipientRow Open(Protection.RecipientCipher cipher, long findingId, string mailboxId, string messageId, string field, string sealedValue)
    {
        var (address, name) = cipher.Open(mailboxId, messageId, sealedValue);
        return new RecipientRow { FindingId = findingId, Address = address, Name = name, Field = field };
    }
}
