using System.Text.Json;
using Dapper;

namespace AuditAgent.Storage;

public sealed record OutboxRow
{
    public long Id { get; init; }

    public string Kind { get; init; } = "";

    public string DedupeKey { get; init; } = "";

    public long? IncidentId { get; init; }

    public string Recipients { get; init; } = "[]";

    public string Subject { get; init; } = "";

    public string Html { get; init; } = "";

    public string Text { get; init; } = "";

    public string Status { get; init; } = "";

    public int Attempts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset NotBefore { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public IReadOnlyList<string> RecipientList => JsonSerializer.Deserialize<List<string>>(Recipients) ?? [];

    /// <summary>The reference in the subject that identifies this message in the sender's Sent Items.</summary>
    public string Reference => $"AA-{Id}";
}

/// <param name="TimelineText">For escalations: the incident timeline entry written with the enqueue, in the same transaction.</param>
public sealed record OutboxMessage(string Kind, string DedupeKey, long? IncidentId, IReadOnlyList<string> Recipients, string Subject, string Html, string Text, DateTimeOffset NotBefore, string? TimelineText = null);

/// <summary>
/// Mail that must go out exactly once. Enqueueing is idempotent (unique key); delivery claims a row
/// before sending, so a row left in "sending" tells of a crash mid-send.
/// </summary>
public sealed class OutboxStore(Database database)
{
    /// <returns>The new row's id, or null when a message with the same key exists already.</returns>
    public async Task<long?> EnqueueAsync(OutboxMessage message, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var id = await c.ExecuteScalarAsync<long?>(database.Command(
            """
            INSERT INTO outbox (kind, dedupe_key, incident_id, recipients, subject, html, text, status, created_at, not_before)
            VALUES (@Kind, @DedupeKey, @IncidentId, @Recipients, @Subject, @Html, @Text, 'pending', @now, @NotBefore)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
            """,
            new
            {
                message.Kind, message.DedupeKey, message.IncidentId, Recipients = JsonSerializer.Serialize(message.Recipients),
                message.Subject, message.Html, message.Text, now, message.NotBefore,
            }, tx, ct));
        if (id is not null && message.IncidentId is { } incident && message.TimelineText is { } text)
        {
            await TimelineChain.AppendAsync(c, tx, database, [new TimelineAppend(incident, now, "AuditAgent", "escalation", text)], ct);
        }

        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<bool> ExistsAsync(string dedupeKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(database.Command(
            "SELECT count(*) FROM outbox WHERE dedupe_key = @dedupeKey", new { dedupeKey }, ct: ct)) > 0;
    }

    public async Task<IReadOnlyList<OutboxRow>> InStatusAsync(string status, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<OutboxRow>(database.Command(
            "SELECT * FROM outbox WHERE status = @status ORDER BY id", new { status }, ct: ct))).ToList();
    }

    public async Task<IReadOnlyList<OutboxRow>> DueAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<OutboxRow>(database.Command(
            "SELECT * FROM outbox WHERE status IN ('pending', 'failed') AND not_before <= @now ORDER BY id",
            new { now }, ct: ct))).ToList();
    }

    /// <summary>Marks a row as being sent; false when another delivery got it first or it is no longer due.</summary>
    public async Task<bool> ClaimAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteAsync(database.Command(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = @id AND status IN ('pending', 'failed')",
            new { id }, ct: ct)) == 1;
    }

    public async Task SetStatusAsync(long id, string status, string? error, DateTimeOffset? sentAt, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE outbox SET status = @status, last_error = @error, sent_at = COALESCE(@sentAt, sent_at) WHERE id = @id",
            new { id, status, error, sentAt }, ct: ct));
    }

    /// <summary>The start of the next digest's period: when the last digest was created.</summary>
    public async Task<DateTimeOffset?> LastDigestAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<DateTimeOffset?>(database.Command(
            "SELECT MAX(created_at) FROM outbox WHERE kind = 'digest'", ct: ct));
    }
}
