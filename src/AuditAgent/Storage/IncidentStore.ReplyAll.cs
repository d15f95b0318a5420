using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>An open incident the reply watch looks at: the sender's mailbox, the conversation, the exposed people (keyed hashes).</summary>
public sealed record ReplyWatchTarget(long IncidentId, string MailboxId, string ConversationId, IReadOnlySet<string> ExposedKeys);

/// <summary>A reply to all from outside, seen in the sender's mailbox.</summary>
public sealed record ReplyAllSeen(long IncidentId, string GraphMessageId, string ReplierDomain, DateTimeOffset SentAt, int Reached);

public sealed partial class IncidentStore
{
    /// <summary>
    /// Open incidents detected since <paramref name="detectedSince"/> with a conversation to watch: each with the
    /// mailbox of its first message (the sender's own copy when there is one: the directory may spell the mailbox's
    /// address in capitals, a sender address is stored in lower case) and its exposed people's keys.
    /// </summary>
    public async Task<IReadOnlyList<ReplyWatchTarget>> ReplyWatchTargetsAsync(DateTimeOffset detectedSince, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = (await c.QueryAsync<(long IncidentId, string MailboxId, string ConversationId, int OwnMailbox)>(database.Command(
            $"""
            SELECT f.incident_id, f.mailbox_id, f.conversation_id, CASE WHEN LOWER(m.address) = i.sender_address THEN 1 ELSE 0 END
            FROM findings f JOIN incidents i ON i.id = f.incident_id JOIN mailboxes m ON m.id = f.mailbox_id
            WHERE {SqlFragments.OpenIncident("i.status")} AND i.detected_at >= @detectedSince
              AND {SqlFragments.BlastOrCopy("f.role")} AND f.conversation_id IS NOT NULL AND f.conversation_id <> ''
            ORDER BY f.incident_id, f.sent_at, f.id
            """,
            new { detectedSince }, null, ct))).ToList();
        var chosen = rows.GroupBy(r => r.IncidentId).Select(g => g.OrderByDescending(r => r.OwnMailbox).First()).ToList();
        var keys = new List<(long IncidentId, string Key)>();
        foreach (var chunk in chosen.Select(r => r.IncidentId).Chunk(500))
        {
            keys.AddRange(await c.QueryAsync<(long, string)>(database.Command(
                $"""
                SELECT DISTINCT f.incident_id, r.recipient_key FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
                WHERE {database.InList("f.incident_id", "chunk")} AND {SqlFragments.ExposingRole("f.role")}
                """,
                new { chunk }, null, ct)));
        }

        var byIncident = keys.ToLookup(k => k.IncidentId, k => k.Key);
        return chosen
            .Select(r => new ReplyWatchTarget(r.IncidentId, r.MailboxId, r.ConversationId, byIncident[r.IncidentId].ToHashSet(StringComparer.Ordinal)))
            .Where(t => t.ExposedKeys.Count > 0)
            .ToList();
    }

    /// <summary>Records replies to all the watch saw; one seen before adds nothing. Returns how many are new.</summary>
    public async Task<int> RecordReplyAllsAsync(IReadOnlyList<ReplyAllSeen> replies, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(replies);
        if (replies.Count == 0)
        {
            return 0;
        }

        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var added = await c.ExecuteAsync(database.Command(
            """
            INSERT INTO reply_all_messages (incident_id, graph_message_id, replier_domain, sent_at, reached, detected_at)
            VALUES (@IncidentId, @GraphMessageId, @ReplierDomain, @SentAt, @Reached, @now)
            ON CONFLICT (incident_id, graph_message_id) DO NOTHING
            """,
            replies.Select(r => new { r.IncidentId, r.GraphMessageId, r.ReplierDomain, r.SentAt, r.Reached, now }), tx, ct));
        await tx.CommitAsync(ct);
        return added;
    }
}
