using System.Data.Common;
using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>
/// The apology of the plan's "apologise from higher up" step: the draft, its approval, and its sending by the
/// agent, one message per exposed person. A send row names the person only by the keyed hash of the address.
/// </summary>
public sealed partial class IncidentStore
{
    /// <summary>A message that failed this often is left failed, shown in the console, for a person to look at.</summary>
    public const int MaxApologyAttempts = 5;

    public async Task<ApologyRow?> ApologyAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ApologyRow>(database.Command("SELECT * FROM apology_drafts WHERE incident_id = @id", new { id }, ct: ct));
    }

    /// <summary>Saves the apology draft; an approval given before the edit no longer holds. In the timeline.</summary>
    public async Task SaveApologyAsync(long id, string subject, string body, Actor by, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await StatusAsync(c, tx, id, by.SeenVersion, ct);
        if (!current.IsOpen())
        {
            throw new InvalidTransitionException($"incident {id} is {current.Name()}; reopen it before changing its apology.");
        }

        await RefuseOnceSendingAsync(c, tx, id, "changed", ct);
        var approved = await c.ExecuteScalarAsync<string?>(database.Command("SELECT approved_by FROM apology_drafts WHERE incident_id = @id", new { id }, tx, ct));
        await c.ExecuteAsync(database.Command(
            """
            INSERT INTO apology_drafts (incident_id, subject, body, updated_by, updated_at) VALUES (@id, @subject, @body, @by, @now)
            ON CONFLICT (incident_id) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_by = excluded.updated_by,
                updated_at = excluded.updated_at, approved_by = NULL, approved_at = NULL
            """,
            new { id, subject, body, by = by.Name, now }, tx, ct));
        await AddEventAsync(c, tx, id, now, by.Name, TimelineKind.Apology.Name(),
            $"Apology draft saved by {by.Name}" + (approved is null ? "." : $"; the approval by {approved} no longer holds."), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>A privacy officer approves the saved draft as it is. In the timeline.</summary>
    public async Task ApproveApologyAsync(long id, Actor by, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await StatusAsync(c, tx, id, by.SeenVersion, ct);
        await RefuseOnceSendingAsync(c, tx, id, "approved again", ct);
        if (await c.ExecuteAsync(database.Command(
            "UPDATE apology_drafts SET approved_by = @by, approved_at = @now WHERE incident_id = @id", new { id, by = by.Name, now }, tx, ct)) == 0)
        {
            throw new InvalidTransitionException($"incident {id} has no saved apology draft to approve; save it first.");
        }

        await AddEventAsync(c, tx, id, now, by.Name, TimelineKind.Apology.Name(),
            $"Apology approved by {by.Name}: to go out one message per recipient (through the bulk-mail platform with the recipient list, or individually).", ct);
        await tx.CommitAsync(ct);
    }


    /// <summary>
    /// Queues the approved apology for every person the incident exposed (one row per keyed address, each with
    /// the Internet Message-ID it will go out with), in the timeline; returns how many people it goes to.
    /// </summary>
    public async Task<int> StartApologySendAsync(long id, string mailbox, Func<string, string> messageIdOf, Actor by, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(messageIdOf);
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await StatusAsync(c, tx, id, by.SeenVersion, ct);
        var approved = await c.ExecuteScalarAsync<string?>(database.Command("SELECT approved_by FROM apology_drafts WHERE incident_id = @id", new { id }, tx, ct));
        if (approved is null)
        {
            throw new InvalidTransitionException($"the apology of incident {id} is not approved; a privacy officer approves the saved draft first.");
        }

        await RefuseOnceSendingAsync(c, tx, id, "sent a second time", ct);
        var keys = (await c.QueryAsync<string>(database.Command(
            $"""
            SELECT DISTINCT r.recipient_key
            FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
            WHERE f.incident_id = @id AND {SqlFragments.ExposingRole("f.role")}
            """,
            new { id }, tx, ct))).ToList();
        if (keys.Count == 0)
        {
            throw new InvalidTransitionException($"incident {id} keeps no exposed addresses any more (retention removed them); use the bulk-mail platform's own list.");
        }

        foreach (var key in keys)
        {
            await c.ExecuteAsync(database.Command(
                "INSERT INTO apology_sends (incident_id, recipient_key, mailbox, message_id, status) VALUES (@id, @key, @mailbox, @messageId, 'pending')",
                new { id, key, mailbox, messageId = messageIdOf(key) }, tx, ct));
        }

        await AddEventAsync(c, tx, id, now, by.Name, TimelineKind.Apology.Name(),
            $"{by.Name} had the agent send the approved apology from {mailbox}: {keys.Count} people, each alone in one message.", ct);
        await tx.CommitAsync(ct);
        return keys.Count;
    }

    /// <summary>Apology messages in this state, oldest incident first.</summary>
    public async Task<IReadOnlyList<ApologySendRow>> ApologySendsAsync(string status, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<ApologySendRow>(database.Command(
            "SELECT * FROM apology_sends WHERE status = @status ORDER BY incident_id, recipient_key", new { status }, ct: ct))).ToList();
    }

    /// <summary>Takes a pending or failed message for sending; false when another agent has it or it went.</summary>
    public async Task<bool> ClaimApologySendAsync(ApologySendRow row, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteAsync(database.Command(
            """
            UPDATE apology_sends SET status = 'sending', attempts = attempts + 1, started_at = @now
            WHERE incident_id = @IncidentId AND recipient_key = @RecipientKey AND status IN ('pending', 'failed') AND attempts < @MaxApologyAttempts
            """,
            new { row.IncidentId, row.RecipientKey, now, MaxApologyAttempts }, ct: ct)) == 1;
    }

    public async Task SetApologySendAsync(ApologySendRow row, string status, string? error, DateTimeOffset? sentAt, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE apology_sends SET status = @status, last_error = @error, sent_at = @sentAt WHERE incident_id = @IncidentId AND recipient_key = @RecipientKey",
            new { status, error, sentAt, row.IncidentId, row.RecipientKey }, ct: ct));
    }

    /// <summary>
    /// Counts the sends not yet counted in each incident's timeline ("went to 12 more people, 30 of 30"), in the
    /// same transaction as the mark that they are counted: a crash loses no count and counts nothing twice. When
    /// every person has had theirs, the apology step is done (by the agent), unless someone marked it already.
    /// </summary>
    public async Task<int> CountApologySendsAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var incidents = (await c.QueryAsync<long>(database.Command(
            "SELECT DISTINCT incident_id FROM apology_sends WHERE status = 'sent' AND counted_at IS NULL", ct: ct))).ToList();
        foreach (var id in incidents)
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            var current = await StatusAsync(c, tx, id, null, ct);
            var counted = await c.ExecuteAsync(database.Command(
                "UPDATE apology_sends SET counted_at = @now WHERE incident_id = @id AND status = 'sent' AND counted_at IS NULL", new { id, now }, tx, ct));
            var (total, sent) = await c.QuerySingleAsync<(long Total, long Sent)>(database.Command(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) FROM apology_sends WHERE incident_id = @id", new { id }, tx, ct));
            var people = counted == 1 ? "person" : "people";
            await AddEventAsync(c, tx, id, now, "AuditAgent", TimelineKind.Apology.Name(), sent == total
                ? $"The apology went to {counted} more {people}: all {total} have had theirs, each alone in one message."
                : $"The apology went to {counted} more {people} ({sent} of {total} so far), each alone in one message.", ct);
            if (sent == total)
            {
                await CompleteStepIfTodoAsync(c, tx, id, current, MailAnswer.ApologySent.Step()!, "AuditAgent", $"Step done: the agent sent the apology to all {total} people, one message each.", now, ct);
            }

            await c.ExecuteAsync(database.Command("UPDATE incidents SET updated_at = @now WHERE id = @id", new { now, id }, tx, ct));
            await tx.CommitAsync(ct);
        }

        return incidents.Count;
    }

    /// <summary>How many apology messages went out from this mailbox since then (Exchange counts recipients per day).</summary>
    public async Task<int> ApologiesSentSinceAsync(string mailbox, DateTimeOffset since, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<int>(database.Command(
            "SELECT COUNT(*) FROM apology_sends WHERE mailbox = @mailbox AND status = 'sent' AND sent_at >= @since", new { mailbox, since }, ct: ct));
    }

    /// <summary>Where the agent's sending of the apology stands, or null when it was never asked to send it.</summary>
    public async Task<ApologySending?> ApologySendingAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = (await c.QueryAsync<ApologySendRow>(database.Command("SELECT * FROM apology_sends WHERE incident_id = @id", new { id }, ct: ct))).ToList();
        return rows.Count == 0 ? null : new ApologySending(
            rows[0].Mailbox, rows.Count, rows.Count(r => r.Status == "sent"), rows.Count(r => r.Status == "failed"),
            rows.Where(r => r.LastError is not null).Select(r => r.LastError).LastOrDefault(), rows.Max(r => r.SentAt));
    }

    private async Task RefuseOnceSendingAsync(DbConnection c, DbTransaction tx, long id, string what, CancellationToken ct)
    {
        var queued = await c.ExecuteScalarAsync<long>(database.Command("SELECT COUNT(*) FROM apology_sends WHERE incident_id = @id", new { id }, tx, ct));
        if (queued > 0)
        {
            throw new InvalidTransitionException($"the agent is sending the apology of incident {id} ({queued} people); it cannot be {what}.");
        }
    }
}

/// <summary>An incident's apology: the draft as last saved, and its approval.</summary>
public sealed record ApologyRow
{
    public long IncidentId { get; init; }

    public string Subject { get; init; } = "";

    public string Body { get; init; } = "";

    public string UpdatedBy { get; init; } = "";

    public DateTimeOffset UpdatedAt { get; init; }

    public string? ApprovedBy { get; init; }

    public DateTimeOffset? ApprovedAt { get; init; }
}

/// <summary>One apology message: to whom (the keyed address), from which mailbox, with which Message-ID, and how far it got.</summary>
public sealed record ApologySendRow
{
    public long IncidentId { get; init; }

    public string RecipientKey { get; init; } = "";

    public string Mailbox { get; init; } = "";

    public string MessageId { get; init; } = "";

    /// <summary>pending, sending, sent or failed.</summary>
    public string Status { get; init; } = "";

    public int Attempts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? SentAt { get; init; }
}

/// <summary>The agent's sending of an apology, in numbers.</summary>
public sealed record ApologySending(string Mailbox, int Total, int Sent, int Failed, string? LastError, DateTimeOffset? LastSentAt);
