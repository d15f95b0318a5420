using Dapper;

namespace AuditAgent.Storage;

public sealed record FindingRow
{
    public long Id { get; init; }

    public string MailboxId { get; init; } = "";

    public string MailboxAddress { get; init; } = "";

    public string GraphMessageId { get; init; } = "";

    public string? InternetMessageId { get; init; }

    public string? ConversationId { get; init; }

    public string? Subject { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public string SenderAddress { get; init; } = "";

    public string? SenderName { get; init; }

    public int VisibleExternalCount { get; init; }

    public int ExternalDomainCount { get; init; }

    public int BccCount { get; init; }

    public DateTimeOffset DetectedAt { get; init; }

    public long? IncidentId { get; init; }

    public string? Role { get; init; }

    public string? SuppressionReason { get; init; }

    public string? Severity { get; init; }
}

public sealed record RecipientRow
{
    public long FindingId { get; init; }

    public string Address { get; init; } = "";

    public string? Name { get; init; }

    public string Field { get; init; } = "";
}

/// <summary>Reads findings for people: the CLI and, later, digests and incidents.</summary>
public sealed class FindingQueries(Database database, Protection.RecipientProtector protector)
{
    /// <summary>A <see cref="FindingRow"/>: the finding, its mailbox's address and its incident's severity (aliases f, m, i).</summary>
    internal const string FindingRowSelect = """
        SELECT f.id, f.mailbox_id, m.address AS mailbox_address, f.graph_message_id, f.internet_message_id, f.conversation_id,
               f.subject, f.sent_at, f.sender_address, f.sender_name, f.visible_external_count, f.external_domain_count,
               f.bcc_count, f.detected_at, f.incident_id, f.role, f.suppression_reason, i.severity
        FROM findings f JOIN mailboxes m ON m.id = f.mailbox_id LEFT JOIN incidents i ON i.id = f.incident_id
        """;

    public async Task<IReadOnlyList<FindingRow>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<FindingRow>(database.Command(
            $"""
            {FindingRowSelect}
            ORDER BY f.sent_at DESC, f.id DESC
            """, ct: ct));
        return rows.ToList();
    }

    /// <summary>Every finding's exposed people, by finding id: personal data, opened only when a person asks for it (--include-recipients).</summary>
    public async Task<ILookup<long, RecipientRow>> RecipientsAsync(CancellationToken ct)
    {
        var cipher = await protector.GetAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(long FindingId, string MailboxId, string MessageId, string Field, string Sealed)>(database.Command(
            "SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.field, r.sealed FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id WHERE r.sealed <> ''", ct: ct));
        return rows.Select(r => IncidentQueries.Open(cipher, r.FindingId, r.MailboxId, r.MessageId, r.Field, r.Sealed))
            .OrderByDescending(r => r.Field, StringComparer.Ordinal).ThenBy(r => r.Address, StringComparer.Ordinal)
            .ToLookup(r => r.FindingId);
    }
}
