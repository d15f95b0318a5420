using AuditAgent.Core.Detection;
using AuditAgent.Core.Events;
using AuditAgent.Core.Scans;
using AuditAgent.Graph;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>A finding with its recipients already protected (sealed and hashed by the reader, off the single writer).</summary>
public sealed record FindingWrite(Finding Finding, IReadOnlyList<Protection.StoredRecipient> Recipients);

/// <summary>A Bcc mailing with its outside recipients' keyed hashes, one per line (never the addresses).</summary>
/// <param name="SenderAddress">The person who sent it.</param>
/// <param name="Count">Its outside Bcc recipients.</param>
public sealed record BccWrite(string MailboxId, string GraphMessageId, string SenderAddress, DateTimeOffset? SentAt, int Count, string RecipientKeys);

/// <summary>One scanned message's counts (no address, no subject), keyed by a hash of its Graph id.</summary>
/// <param name="MessageKey">The Graph id's <see cref="Core.Detection.MessageKey"/>.</param>
public readonly record struct StatsWrite(long MessageKey, DateTimeOffset SentAt, MessageCounts Counts);

/// <summary>What one delta page produced, written with the link that follows it.</summary>
/// <param name="Skipped">Messages of the page that could not be used (malformed, or a repeated id with other recipients).</param>
public sealed record PageWrite(string MailboxId, IReadOnlyList<FindingWrite> Findings, IReadOnlyList<BccWrite> BccMessages, string Link, bool RoundComplete, bool StartedOver, int Skipped = 0)
{
    /// <summary>Every message of the page, reduced to counts (backtest).</summary>
    public IReadOnlyList<StatsWrite> Stats { get; init; } = [];
}

/// <summary>A mailbox that could not be scanned this time, and why (no message content).</summary>
/// <param name="NoMailbox">Graph says the user has no Exchange Online mailbox: not a failure; tried again a day later.</param>
public sealed record MailboxFailure(string MailboxId, string Reason, bool NoMailbox = false);

/// <summary>Everything the scanner writes. Findings and the delta link that covers them commit together.</summary>
public sealed class ScanStore(Database database, EventStore events)
{
    /// <summary>
    /// Writes pages in one transaction: each page's mailbox link and then its findings (ignoring ones
    /// already stored). The link can therefore never move ahead of the findings it covers, and a
    /// replayed page adds nothing. A page whose mailbox is no longer leased to
    /// <paramref name="lease"/>'s owner (the lease expired and another agent took the mailbox over) is
    /// dropped whole, so two agents never interleave one mailbox's links. The last page of a round marks
    /// the mailbox covered in the cycle and returns its lease. Returns the number of new findings.
    /// </summary>
    public async Task<(int Inserted, int Dropped)> SavePagesAsync(IReadOnlyList<PageWrite> pages, IReadOnlyList<MailboxFailure> failures, MailboxLease lease, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Which of these mailboxes this agent still holds (locked until commit on PostgreSQL). Pages of the
        // others are dropped: their lease expired and another agent took the mailbox over.
        var ids = pages.Select(p => p.MailboxId).Distinct(StringComparer.Ordinal).ToList();
        var held = ids.Count == 0 ? [] : (await connection.QueryAsync<string>(database.Command(
            $"SELECT id FROM mailboxes WHERE {database.InList("id", "Ids")} AND lease_owner = @Owner {database.ForUpdate}",
            new { Ids = ids, lease.Owner }, tx, ct))).ToHashSet(StringComparer.Ordinal);
        var kept = pages.Where(p => held.Contains(p.MailboxId)).ToList();
        var dropped = pages.Count - kept.Count;

        // Every page's link, in the order read: a mailbox's later page wins. The statements that run once per row
        // are made once per transaction, their parameters named as the SQL writes them (PreparedStatement).
        await using (var link = await PreparedStatement.PrepareAsync(connection, tx,
            """
            UPDATE mailboxes
            SET delta_link = @Link,
                round_complete = @RoundComplete,
                last_synced_at = CASE WHEN @RoundComplete THEN @Now ELSE last_synced_at END,
                last_error = NULL,
                last_error_at = NULL,
                no_mailbox_at = NULL,
                resyncs = resyncs + CASE WHEN @StartedOver THEN 1 ELSE 0 END,
                skipped_messages = skipped_messages + @Skipped,
                done_cycle = CASE WHEN @RoundComplete THEN @CycleId ELSE done_cycle END,
                scanned_by = CASE WHEN @RoundComplete THEN @Owner ELSE scanned_by END,
                lease_owner = CASE WHEN @RoundComplete THEN NULL ELSE lease_owner END,
                lease_expires_at = CASE WHEN @RoundComplete THEN NULL ELSE lease_expires_at END
            WHERE id = @MailboxId AND lease_owner = @Owner
            """, ["@Link", "@RoundComplete", "@Now", "@StartedOver", "@Skipped", "@CycleId", "@Owner", "@MailboxId"], ct))
        {
            foreach (var page in kept)
            {
                await link.RunAsync(ct, page.Link, page.RoundComplete, now, page.StartedOver, page.Skipped, lease.CycleId, lease.Owner, page.MailboxId);
            }
        }

        var inserted = await SaveFindingsAsync(connection, tx, kept.SelectMany(p => p.Findings).ToList(), now, ct);

        // Every page's Bcc mailings (a tenant's newsletters are thousands of rows). Only ever compared with
        // incidents' recipients: keyed hashes, never the addresses.
        var mailings = kept.SelectMany(p => p.BccMessages).ToList();
        if (mailings.Count > 0)
        {
            await using var mailing = await PreparedStatement.PrepareAsync(connection, tx,
                """
                INSERT INTO bcc_messages (mailbox_id, graph_message_id, sender_address, sent_at, bcc_external_count, detected_at, recipients)
                VALUES (@MailboxId, @GraphMessageId, @SenderAddress, @SentAt, @Count, @Now, @Recipients)
                ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
                """, ["@MailboxId", "@GraphMessageId", "@SenderAddress", "@SentAt", "@Count", "@Now", "@Recipients"], ct);
            foreach (var b in mailings)
            {
                await mailing.RunAsync(ct, b.MailboxId, b.GraphMessageId, b.SenderAddress, b.SentAt ?? now, b.Count, now, b.RecipientKeys);
            }
        }

        await SaveStatsAsync(connection, tx, kept, ct);
        foreach (var failure in failures.Where(f => f.NoMailbox))
        {
            await connection.ExecuteAsync(database.Command(
                """
                UPDATE mailboxes
                SET no_mailbox_at = @Now, last_error = NULL, last_error_at = NULL, done_cycle = @CycleId, scanned_by = @Owner, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = @MailboxId AND lease_owner = @Owner
                """,
                new { failure.MailboxId, Now = now, lease.CycleId, lease.Owner }, tx, ct));
        }

        foreach (var failure in failures.Where(f => !f.NoMailbox))
        {
            await connection.ExecuteAsync(database.Command(
                """
                UPDATE mailboxes
                SET last_error = @Reason, last_error_at = @Now, done_cycle = @CycleId, scanned_by = @Owner, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = @MailboxId AND lease_owner = @Owner
                """,
                new { failure.Reason, failure.MailboxId, Now = now, lease.CycleId, lease.Owner }, tx, ct));
        }

        await tx.CommitAsync(ct);
        return (inserted, dropped);
    }

    /// <summary>The findings not stored yet, each with its exposed recipients (sealed, keyed). Returns how many were new.</summary>
    private static async Task<int> SaveFindingsAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, List<FindingWrite> findings, DateTimeOffset now, CancellationToken ct)
    {
        if (findings.Count == 0)
        {
            return 0;
        }

        await using var finding = await PreparedStatement.PrepareAsync(connection, tx,
            """
            INSERT INTO findings (mailbox_id, graph_message_id, internet_message_id, conversation_id, subject, sent_at,
                                  sender_address, sender_name, visible_external_count, external_domain_count, bcc_count, detected_at,
                                  sent_as, sensitive)
            VALUES (@MailboxId, @GraphMessageId, @InternetMessageId, @ConversationId, @Subject, @SentDateTime,
                    @SenderAddress, @SenderName, @VisibleExternalCount, @ExternalDomainCount, @BccCount, @Now,
                    @SentAs, @Sensitive)
            ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
            RETURNING id
            """,
            ["@MailboxId", "@GraphMessageId", "@InternetMessageId", "@ConversationId", "@Subject", "@SentDateTime", "@SenderAddress", "@SenderName",
             "@VisibleExternalCount", "@ExternalDomainCount", "@BccCount", "@Now", "@SentAs", "@Sensitive"], ct);
        await using var recipient = await PreparedStatement.PrepareAsync(connection, tx,
            """
            INSERT INTO exposed_recipients (finding_id, recipient_key, domain, field, sealed) VALUES (@FindingId, @Key, @Domain, @Field, @Sealed)
            ON CONFLICT (finding_id, recipient_key) DO NOTHING
            """, ["@FindingId", "@Key", "@Domain", "@Field", "@Sealed"], ct);
        var inserted = 0;
        foreach (var (f, recipients) in findings)
        {
            // A finding stored before (a replayed page) returns no id, and its recipients are already there.
            var id = await finding.ReturningAsync(ct,
                f.MailboxId, f.GraphMessageId, f.InternetMessageId, f.ConversationId, f.Subject, f.SentDateTime,
                f.SenderAddress, f.SenderName, f.VisibleExternalCount, f.ExternalDomainCount, f.BccCount, now,
                f.SentAs, f.Sensitive.Count == 0 ? null : string.Join('\n', f.Sensitive.Select(m => m.Stored)));
            if (id is not { } findingId)
            {
                continue;
            }

            inserted++;
            foreach (var r in recipients)
            {
                await recipient.RunAsync(ct, findingId, r.Key, r.Domain, r.Field, r.Sealed);
            }
        }

        return inserted;
    }

    /// <summary>
    /// The pages' count rows, a row per message, so this is the scan's hottest write: one statement per page, so no
    /// parameter is bound per row (PostgreSQL: the columns as arrays, unnested by the server; SQLite, where a
    /// statement costs no round trip: the rows' numbers in a VALUES list). A replayed page adds nothing.
    /// </summary>
    private async Task SaveStatsAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, IReadOnlyList<PageWrite> pages, CancellationToken ct)
    {
        const string Insert = "INSERT INTO message_stats (mailbox_id, message_key, sent_unix, visible_external, external_count, all_recipients, external_domains, bcc_count)";
        foreach (var page in pages.Where(p => p.Stats.Count > 0))
        {
            var rows = page.Stats;
            if (database.IsPostgreSql)
            {
                await connection.ExecuteAsync(database.Command(
                    $"""
                    {Insert}
                    SELECT @MailboxId, * FROM unnest(@Keys, @Sent, @Visible, @External, @All, @Domains, @Bcc)
                    ON CONFLICT (mailbox_id, message_key) DO NOTHING
                    """,
                    new
                    {
                        page.MailboxId,
                        Keys = rows.Select(r => r.MessageKey).ToArray(),
                        Sent = rows.Select(r => r.SentAt.ToUnixTimeSeconds()).ToArray(),
                        Visible = rows.Select(r => r.Counts.VisibleExternal).ToArray(),
                        External = rows.Select(r => r.Counts.External).ToArray(),
                        All = rows.Select(r => r.Counts.All).ToArray(),
                        Domains = rows.Select(r => r.Counts.ExternalDomains).ToArray(),
                        Bcc = rows.Select(r => r.Counts.Bcc).ToArray(),
                    }, tx, ct));
                continue;
            }

            // SQLite: the rows as numbers in the statement itself (integers this code formats, nothing from Graph).
            // Not through Dapper: it caches what it learns about each statement's text, and every page's text is new.
            for (var start = 0; start < rows.Count; start += 500)
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = RowsSql(Insert, rows, start, Math.Min(rows.Count, start + 500));
                var mailbox = insert.CreateParameter();
                (mailbox.ParameterName, mailbox.Value) = ("@MailboxId", page.MailboxId);
                insert.Parameters.Add(mailbox);
                await insert.ExecuteNonQueryAsync(ct);
            }
        }
    }

    [ThreadStatic]
    private static System.Text.StringBuilder? s_sql;

    /// <summary>INSERT ... VALUES (@MailboxId, key, sent, visible, external, all, domains, bcc), ...: numbers only.</summary>
    private static string RowsSql(string insert, IReadOnlyList<StatsWrite> rows, int from, int to)
    {
        var text = (s_sql ??= new System.Text.StringBuilder(64 * 1024)).Clear().Append(insert).Append(" VALUES ");
        for (var i = from; i < to; i++)
        {
            var (key, sent, c) = (rows[i].MessageKey, rows[i].SentAt.ToUnixTimeSeconds(), rows[i].Counts);
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{(i > from ? "," : "")}(@MailboxId,{key},{sent},{c.VisibleExternal},{c.External},{c.All},{c.ExternalDomains},{c.Bcc})");
        }

        return text.Append(" ON CONFLICT (mailbox_id, message_key) DO NOTHING").ToString();
    }

    public async Task<long> StartRunAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(database.Command(
            "INSERT INTO scan_runs (started_at, status) VALUES (@now, @status) RETURNING id",
            new { now, status = ScanOutcome.Running.Name() }, ct: ct));
    }

    public async Task FinishRunAsync(long runId, ScanRunResult result, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(database.Command(
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
            }, ct: ct));
        if (result.Status == ScanOutcome.Failed.Name())
        {
            await events.AppendAsync(EventTypes.ScanFailed, new { scanRun = runId, error = result.Error, mailboxes = result.Mailboxes, mailboxesFailed = result.MailboxesFailed }, result.FinishedAt, null, ct);
        }
    }

    /// <summary>
    /// Marks a finished run failed after the fact: incident processing, the second half of a scan, failed.
    /// `status`, `status --check` and the digest read the run, so they all say so.
    /// </summary>
    public async Task FailRunAsync(long runId, string error, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(database.Command(
            "UPDATE scan_runs SET status = @status, error = @error WHERE id = @runId",
            new { runId, error, status = ScanOutcome.Failed.Name() }, ct: ct));
        await events.AppendAsync(EventTypes.ScanFailed, new { scanRun = runId, error }, DateTimeOffset.UtcNow, null, ct);
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
