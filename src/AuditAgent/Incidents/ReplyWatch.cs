using System.Text.Json;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;

namespace AuditAgent.Incidents;

/// <summary>What one pass of the reply watch did: incidents looked at, $batch requests it takes (20 incidents each; throttled parts sent again come on top), replies to all found.</summary>
public sealed record ReplyWatchSummary(int Incidents, int Requests, int NewReplies);

/// <summary>
/// After the first message, recipients reply to all, and every reply puts the list in front of everyone again.
/// For each open incident younger than Incidents:ReplyWatchDays, the messages of its conversation in the
/// sender's mailbox are read (<c>/users/{id}/messages?$filter=conversationId eq '...'</c>, Mail.ReadBasic.All,
/// 20 incidents to a $batch: at most one request per 20 open incidents per cycle). A message from outside whose
/// To and Cc reach half or more of the exposed people again is a reply to all; plain replies to the sender are
/// not. Replies are recorded once; the next incident pass puts them on the timeline.
/// </summary>
public sealed class ReplyWatch(
    GraphServiceClient graph,
    IncidentStore store,
    ClusterStore cluster,
    Protection.RecipientProtector protector,
    IOptions<IncidentOptions> incidentOptions,
    IOptions<GraphOptions> graphOptions,
    TimeProvider time,
    Telemetry.AgentMetrics metrics,
    ILogger<ReplyWatch> logger)
{
    private static readonly string[] Properties = ["id", "from", "toRecipients", "ccRecipients", "sentDateTime"];

    public async Task<ReplyWatchSummary> RunAsync(CancellationToken ct)
    {
        using var activity = Telemetry.AgentTracing.Source.StartActivity("reply watch");
        var days = incidentOptions.Value.ReplyWatchDays;
        if (days == 0)
        {
            return new ReplyWatchSummary(0, 0, 0);
        }

        var now = time.GetUtcNow();
        var targets = await store.ReplyWatchTargetsAsync(now.AddDays(-days), ct);
        if (targets.Count == 0)
        {
            return new ReplyWatchSummary(0, 0, 0);
        }

        var internalDomains = new InternalDomains(await cluster.LatestInternalDomainsAsync(ct));
        var cipher = await protector.GetAsync(ct);
        var g = graphOptions.Value;
        var byKey = targets.ToDictionary(t => t.IncidentId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var batch = new GraphBatch(graph, TransientRetry.From(g, time, metrics), g.MaxRetryAfterSeconds);
        var answers = await batch.GetAsync(
            byKey.Select(x => (x.Key, (Func<HttpRequestMessage>)(() => batch.Get(RequestPath(x.Value))))).ToList(),
            (key, root) => Replies(byKey[key], root, internalDomains, cipher, now),
            parallelBatches: 4,
            maxAttempts: 5,
            ct);
        foreach (var failed in answers.Where(a => a.Value.Error is not null))
        {
            logger.ReplyWatchConversationFailed(failed.Key, GraphErrors.Describe(failed.Value.Error!));
        }

        var seen = answers.Values.Where(a => a.Value is not null).SelectMany(a => a.Value!).ToList();
        var added = await store.RecordReplyAllsAsync(seen, now, ct);
        if (added > 0)
        {
            logger.RepliesFound(added, targets.Count);
        }

        return new ReplyWatchSummary(targets.Count, (targets.Count + GraphBatch.Limit - 1) / GraphBatch.Limit, added);
    }

    private static string RequestPath(ReplyWatchTarget t) =>
        $"/users/{Uri.EscapeDataString(t.MailboxId)}/messages?$filter={Uri.EscapeDataString($"conversationId eq '{t.ConversationId.Replace("'", "''", StringComparison.Ordinal)}'")}"
        + $"&$select={string.Join(',', Properties)}&$top=100";

    /// <summary>The conversation's messages from outside that reached half or more of the exposed people again.</summary>
    /// <param name="now">The sent time of a reply that carries none.</param>
    internal static List<ReplyAllSeen> Replies(ReplyWatchTarget target, JsonElement root, InternalDomains internalDomains, Protection.RecipientCipher cipher, DateTimeOffset now)
    {
        var result = new List<ReplyAllSeen>();
        if (!root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var m in value.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object
                || Text(m, "id") is not { Length: > 0 } id
                || !EmailAddress.TryParse(Address(m.TryGetProperty("from", out var from) ? from : default), out var sender)
                || internalDomains.Contains(sender.Domain))
            {
                continue;
            }

            var reached = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in new[] { "toRecipients", "ccRecipients" })
            {
                if (m.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var r in list.EnumerateArray())
                    {
                        if (EmailAddress.TryParse(Address(r), out var address) && address.Value != sender.Value && target.ExposedKeys.Contains(cipher.KeyOf(address.Value)))
                        {
                            reached.Add(address.Value);
                        }
                    }
                }
            }

            // Half the list (the replier aside): a plain reply to the sender, or to a few, is not a cascade.
            var others = target.ExposedKeys.Count - (target.ExposedKeys.Contains(cipher.KeyOf(sender.Value)) ? 1 : 0);
            if (others > 0 && reached.Count * 2 >= others)
            {
                var sent = DateTimeOffset.TryParse(Text(m, "sentDateTime"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : now;
                result.Add(new ReplyAllSeen(target.IncidentId, id, sender.Domain, sent, reached.Count));
            }
        }

        return result;
    }

    private static string? Address(JsonElement recipient) =>
        recipient.ValueKind == JsonValueKind.Object && recipient.TryGetProperty("emailAddress", out var e) && e.ValueKind == JsonValueKind.Object ? Text(e, "address") : null;

    private static string? Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
