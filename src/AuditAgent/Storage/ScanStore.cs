using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>Where a mailbox's delta sync stands.</summary>
public sealed record MailboxCursor
{
    public string MailboxId { get; init; } = "";

    public string? DeltaLink { get; init; }

    public bool RoundComplete { get; init; }
}

/// <summary>What one delta page produced, written with the link that follows it.</summary>
public sealed record PageWrite(string MailboxId, IReadOnlyList<Finding> Findings, IReadOnlyList<BccMessage> BccMessages, string Link, bool RoundComplete, bool StartedOver);

/// <summary>A mailbox that could not be scanned this time, and why (no message content).</summary>
public sealed record MailboxFailure(string MailboxId, string Reason);

/// <summary>Everything the scanner writes. Findings and the delta link that covers them commit together.</summary>
public sealed class ScanStore(Database database)
{
    public async Task UpsertMailboxesAsync(IReadOnlyList<Mailbox> mailboxes, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(
            new CommandDefinition(
                """
                INSERT INTO mailboxes (id, address, display_name, first_seen_at)
                VALUES (@Id, @Address, @DisplayName, @Now)
                ON CONFLICT (id) DO UPDATE SET address = excluded.address, display_name = excluded.display_name
                """,
                mailboxes.Select(m => new { m.Id, m.Address, m.DisplayName, Now = now }),
                tx,
                database.CommandTimeout,
                cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyDictionary<string, MailboxCursor>> GetCursorsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<MailboxCursor>(new CommandDefinition(
            "SELECT id AS MailboxId, delta_link AS DeltaLink, round_complete AS RoundComplete FROM mailboxes",
            commandTimeout: database.CommandTimeout,
            cancellationToken: ct));
        return rows.ToDictionary(r => r.MailboxId, StringComparer.Ordinal);
    }

    /// <summary>
    /// Writes pages in one transaction: each page's findings (ignoring ones already stored) and then
    /// its mailbox's link. The link can therefore never move ahead of the findings it covers, and a
    /// replayed page adds nothing. Returns the number of findings that were new.
    /// </summary>
    public async Task<int> SavePagesAsync(IReadOnlyList<PageWrite> pages, IReadOnlyList<MailboxFailure> failures, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var inserted = 0;
        foreach (var page in pages)
        {
            foreach (var f in page.Findings)
            {
                var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                    """
                    INSERT INTO findings (mailbox_id, graph_message_id, internet_message_id, conversation_id, subject, sent_at,
                                          sender_address, sender_name, visible_external_count, external_domain_count, bcc_count, detected_at)
                    VALUES (@MailboxId, @GraphMessageId, @InternetMessageId, @ConversationId, @Subject, @SentDateTime,
                            @SenderAddress, @SenderName, @VisibleExternalCount, @ExternalDomainCount, @BccCount, @Now)
                    ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
                    RETURNING id
                    """,
                    new
                    {
                        f.MailboxId, f.GraphMessageId, f.InternetMessageId, f.ConversationId, f.Subject, f.SentDateTime,
                        f.SenderAddress, f.SenderName, f.VisibleExternalCount, f.ExternalDomainCount, f.BccCount, Now = now,
                    },
                    tx,
                    database.CommandTimeout,
                    cancellationToken: ct));
                if (id is null)
                {
                    continue;
                }

                inserted++;
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO finding_recipients (finding_id, address, name, field) VALUES (@FindingId, @Address, @Name, @Field)",
                    f.VisibleExternal.Select(r => new { FindingId = id.Value, r.Address, r.Name, Field = r.Field.ToString() }),
                    tx,
                    database.CommandTimeout,
                    cancellationToken: ct));
            }

            foreach (var b in page.BccMessages)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO bcc_messages (mailbox_id, graph_message_id, sender_address, sent_at, bcc_external_count, detected_at, recipients)
                    VALUES (@MailboxId, @GraphMessageId, @SenderAddress, @SentAt, @Count, @Now, @Recipients)
                    ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
                    """,
                    new
                    {
                        b.MailboxId, b.GraphMessageId, b.SenderAddress, SentAt = b.SentDateTime ?? now, Count = b.ExternalBcc.Count, Now = now,
                        Recipients = string.Join('\n', b.ExternalBcc),
                    },
                    tx,
                    database.CommandTimeout,
                    cancellationToken: ct));
            }

            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE mailboxes
                SET delta_link = @Link,
                    round_complete = @RoundComplete,
                    last_synced_at = CASE WHEN @RoundComplete THEN @Now ELSE last_synced_at END,
                    last_error = NULL,
                    last_error_at = NULL,
                    resyncs = resyncs + CASE WHEN @StartedOver THEN 1 ELSE 0 END
                WHERE id = @MailboxId
                """,
                new { page.Link, page.RoundComplete, page.StartedOver, page.MailboxId, Now = now },
                tx,
                database.CommandTimeout,
                cancellationToken: ct));
        }

        foreach (var failure in failures)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE mailboxes SET last_error = @Reason, last_error_at = @Now WHERE id = @MailboxId",
                new { failure.Reason, failure.MailboxId, Now = now },
                tx,
                database.CommandTimeout,
                cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return inserted;
    }

    public async Task<long> StartRunAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "INSERT INTO scan_runs (started_at, status) VALUES (@now, 'running') RETURNING id",
            new { now },
            commandTimeout: database.CommandTimeout,
            cancellationToken: ct));
    }

    public async Task FinishRunAsync(long runId, ScanRunResult result, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE scan_runs
            SET finished_at = @FinishedAt, status = @Status, mailboxes = @Mailboxes, mailboxes_failed = @MailboxesFailed,
                messages = @Messages, malformed_messages = @MalformedMessages, unresolvable_recipients = @UnresolvableRecipients,
                findings_new = @FindingsNew, resyncs = @Resyncs, error = @Error
            WHERE id = @RunId
            """,
            new
            {
                RunId = runId, result.FinishedAt, result.Status, result.Mailboxes, result.MailboxesFailed, result.Messages,
                result.MalformedMessages, result.UnresolvableRecipients, result.FindingsNew, result.Resyncs, result.Error,
            },
            commandTimeout: database.CommandTimeout,
            cancellationToken: ct));
    }
}

/// <summary>The totals of one scan run, as recorded in scan_runs.</summary>
public sealed record ScanRunResult(
    DateTimeOffset FinishedAt,
    string Status,
    int Mailboxes,
    int MailboxesFailed,
    long Messages,
    long MalformedMessages,
    long UnresolvableRecipients,
    int FindingsNew,
    int Resyncs,
    string? Error);
