using AuditAgent.Core.Incidents;
using AuditAgent.Core.Backtest;
using AuditAgent.Core.Detection;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>The history a prevention rule is replayed against: counts of past messages, and which were incidents.</summary>
/// <param name="Legitimate">Per metric, how many messages that were not part of an incident had each count.</param>
/// <param name="Incidents">Per metric, each incident's largest count among its messages.</param>
/// <param name="Messages">Messages in the period (count rows read).</param>
public sealed record BacktestHistory(
    IReadOnlyDictionary<RuleMetric, CountHistogram> Legitimate,
    IReadOnlyDictionary<RuleMetric, IReadOnlyList<IncidentCount>> Incidents,
    ReplayPeriod Period,
    DateTimeOffset From,
    DateTimeOffset To,
    long Messages);

/// <summary>Reads message_stats (count-only rows, one per scanned message) and the incidents' messages for auditagent backtest.</summary>
public sealed class BacktestQueries(Database database)
{
    private static readonly (RuleMetric Metric, string Column)[] Metrics =
    [
        (RuleMetric.AllRecipients, "all_recipients"),
        (RuleMetric.ExternalRecipients, "external_count"),
        (RuleMetric.VisibleExternal, "visible_external"),
    ];

    public async Task<BacktestHistory> LoadAsync(DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var sinceUnix = since.ToUnixTimeSeconds();
        var histograms = new Dictionary<RuleMetric, Dictionary<int, long>>();
        foreach (var (metric, column) in Metrics)
        {
            histograms[metric] = (await c.QueryAsync<(int Count, long Messages)>(database.Command(
                $"SELECT {column}, COUNT(*) FROM message_stats WHERE sent_unix >= @sinceUnix GROUP BY {column}", new { sinceUnix }, ct: ct)))
                .ToDictionary(r => r.Count, r => r.Messages);
        }

        // The incidents' messages, found by the key their count rows were written under; each is taken out of the
        // legitimate counts, and an incident counts with its largest message.
        var messages = (await c.QueryAsync<(long IncidentId, string MailboxId, string GraphMessageId, int Visible)>(database.Command(
            $"""
            SELECT f.incident_id, f.mailbox_id, f.graph_message_id, f.visible_external_count
            FROM findings f JOIN incidents i ON i.id = f.incident_id
            WHERE {SqlFragments.ExposingRole("f.role")} AND f.sent_at >= @since AND i.status <> '{IncidentStatus.FalsePositive.Name()}'
            """,
            new { since }, ct: ct))).ToList();
        var keys = messages.Select(m => MessageKey.Of(m.GraphMessageId)).Distinct().ToList();
        var rows = new Dictionary<(string, long), (int Visible, int External, int All)>();
        foreach (var chunk in keys.Chunk(500))
        {
            foreach (var r in await c.QueryAsync<(string MailboxId, long Key, int Visible, int External, int All)>(database.Command(
                $"SELECT mailbox_id, message_key, visible_external, external_count, all_recipients FROM message_stats WHERE {database.InList("message_key", "chunk")} AND sent_unix >= @sinceUnix",
                new { chunk, sinceUnix }, ct: ct)))
            {
                rows[(r.MailboxId, r.Key)] = (r.Visible, r.External, r.All);
            }
        }

        var incidents = new Dictionary<RuleMetric, Dictionary<long, int>>();
        foreach (var (metric, _) in Metrics)
        {
            incidents[metric] = [];
        }

        foreach (var m in messages)
        {
            var found = rows.Remove((m.MailboxId, MessageKey.Of(m.GraphMessageId)), out var counts);
            // A message scanned before count rows were kept: its visible count is all that is known.
            (int Visible, int External, int All) values = found ? counts : (m.Visible, m.Visible, m.Visible);
            foreach (var (metric, value) in new[] { (RuleMetric.VisibleExternal, values.Visible), (RuleMetric.ExternalRecipients, values.External), (RuleMetric.AllRecipients, values.All) })
            {
                incidents[metric][m.IncidentId] = Math.Max(incidents[metric].GetValueOrDefault(m.IncidentId), value);
                if (found)
                {
                    var h = histograms[metric];
                    h[value] = h.GetValueOrDefault(value) - 1;
                }
            }
        }

        var (firstUnix, total) = await c.QuerySingleAsync<(long? First, long Total)>(database.Command(
            "SELECT MIN(sent_unix), COUNT(*) FROM message_stats WHERE sent_unix >= @sinceUnix", new { sinceUnix }, ct: ct));
        DateTimeOffset? first = firstUnix is { } u ? DateTimeOffset.FromUnixTimeSeconds(u) : null;
        var users = await c.ExecuteScalarAsync<int>(database.Command(
            $"SELECT CAST(COUNT(*) AS INTEGER) FROM mailboxes WHERE no_mailbox_at IS NULL AND (purpose IS NULL OR purpose NOT IN ({ClusterStore.NotScannedPurposes}))", ct: ct));
        var from = first is { } f && f > since ? f : since;
        var weeks = Math.Max(1.0 / 7, (now - from).TotalDays / 7);
        return new BacktestHistory(
            histograms.ToDictionary(h => h.Key, h => new CountHistogram(h.Value.Where(x => x.Value > 0).ToDictionary(x => x.Key, x => x.Value))),
            incidents.ToDictionary(i => i.Key, i => (IReadOnlyList<IncidentCount>)[.. i.Value.Select(x => new IncidentCount(x.Key, x.Value)).OrderBy(x => x.IncidentId)]),
            new ReplayPeriod(weeks, users),
            from,
            now,
            total);
    }
}
