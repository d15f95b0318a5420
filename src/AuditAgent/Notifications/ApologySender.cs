using System.Net;
using System.Threading.RateLimiting;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace AuditAgent.Notifications;

public sealed record ApologyRun(int Sent, int Failed, int Recovered, int Waiting, bool DailyLimitReached);

/// <summary>
/// Sends approved apologies through Graph sendMail, one message per exposed person, each alone in To: never a
/// Cc, never a Bcc list, so the agent cannot repeat the incident it reports. Exactly once per person: a row is
/// marked "sending" before the request; one found so after a crash is looked up by its Message-ID in the
/// mailbox's Sent Items (after Notifications:Apology:SentItemsWaitSeconds) and either marked sent or sent
/// again. Paced to Notifications:Apology:MessagesPerMinute, one request at a time, and stopped for the day at
/// RecipientsPerDay. The address is opened from its sealed row only to send, and never logged.
/// </summary>
public sealed class ApologySender(IncidentStore store, IncidentQueries queries, GraphMail graph, ApologyPace pace, IOptions<ApologyOptions> options, TimeProvider time, ILogger<ApologySender> logger)
{
    /// <summary>The Internet Message-ID an apology to this person goes out with, in the sending mailbox's domain.</summary>
    public static string MessageIdOf(long incidentId, string recipientKey, string mailbox)
    {
        ArgumentNullException.ThrowIfNull(recipientKey);
        ArgumentNullException.ThrowIfNull(mailbox);
        var local = recipientKey[..Math.Max(0, recipientKey.IndexOf('@', StringComparison.Ordinal))];
        return $"<apology.{incidentId}.{local}@{mailbox[(mailbox.LastIndexOf('@') + 1)..]}>";
    }

    public async Task<ApologyRun> SendAsync(CancellationToken ct)
    {
        var o = options.Value;
        int sent = 0, failed = 0, recovered = 0, waiting = 0;
        foreach (var row in await store.ApologySendsAsync("sending", ct))
        {
            var now = time.GetUtcNow();
            if (now - row.StartedAt < TimeSpan.FromSeconds(o.SentItemsWaitSeconds))
            {
                waiting++; // too soon to trust Sent Items to show it
                continue;
            }

            if (await graph.InSentItemsAsync(row.Mailbox, row.MessageId, ct))
            {
                await store.SetApologySendAsync(row, "sent", null, row.StartedAt, ct);
                recovered++;
            }
            else
            {
                await store.SetApologySendAsync(row, "pending", "interrupted before it was sent", null, ct);
            }
        }

        var limitReached = false;
        var drafts = new Dictionary<long, ApologyRow?>();
        // What each mailbox sent in the last 24 hours: read once per pass, counted on as this pass sends.
        var sentToday = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var due = (await store.ApologySendsAsync("pending", ct)).Concat((await store.ApologySendsAsync("failed", ct)).Where(r => r.Attempts < IncidentStore.MaxApologyAttempts));
        foreach (var row in due)
        {
            if (!sentToday.TryGetValue(row.Mailbox, out var today))
            {
                sentToday[row.Mailbox] = today = await store.ApologiesSentSinceAsync(row.Mailbox, time.GetUtcNow().AddDays(-1), ct);
            }

            if (today >= o.RecipientsPerDay)
            {
                logger.ApologyDayLimit(row.Mailbox, o.RecipientsPerDay);
                limitReached = true;
                break;
            }

            using var lease = await pace.Limiter.AcquireAsync(1, ct);
            if (!await store.ClaimApologySendAsync(row, time.GetUtcNow(), ct))
            {
                continue;
            }

            if (!drafts.TryGetValue(row.IncidentId, out var draft))
            {
                drafts[row.IncidentId] = draft = await store.ApologyAsync(row.IncidentId, ct);
            }

            var person = await queries.ExposedRecipientAsync(row.IncidentId, row.RecipientKey, ct);
            if (draft is null || person is null)
            {
                await store.SetApologySendAsync(row, "failed", person is null ? "the address is no longer kept (retention)" : "the apology draft is gone", null, ct);
                failed++;
                continue;
            }

            try
            {
                await graph.SendAsync(row.Mailbox, Compose(row, draft, person, o.NameFallback), ct);
                await store.SetApologySendAsync(row, "sent", null, time.GetUtcNow(), ct);
                sentToday[row.Mailbox]++;
                sent++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var reason = GraphErrors.Describe(ex);
                await store.SetApologySendAsync(row, "failed", reason, null, CancellationToken.None);
                logger.ApologyFailed(row.IncidentId, row.Attempts + 1, reason);
                failed++;
            }
        }

        await store.CountApologySendsAsync(time.GetUtcNow(), ct);
        return new ApologyRun(sent, failed, recovered, waiting, limitReached);
    }

    /// <summary>One message: the person alone in To, the approved text with their name, the planned Message-ID.</summary>
    public static MimeMessage Compose(ApologySendRow row, ApologyRow draft, RecipientRow person, string nameFallback)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(person);
        var name = SafeText.Clean(person.Name, 100) is { Length: > 0 } n && !n.Contains('@', StringComparison.Ordinal) ? n : null;
        var text = draft.Body.Replace(ApologyFacts.NamePlaceholder, name ?? nameFallback, StringComparison.Ordinal);
        var message = new MimeMessage { MessageId = row.MessageId.Trim('<', '>'), Subject = draft.Subject };
        message.From.Add(MailboxAddress.Parse(row.Mailbox));
        message.To.Add(new MailboxAddress(name, person.Address));
        var html = string.Join("", text.Split("\n\n").Select(p => "<p>" + WebUtility.HtmlEncode(p).Replace("\n", "<br>", StringComparison.Ordinal) + "</p>"));
        message.Body = new BodyBuilder { TextBody = text + "\n", HtmlBody = $"<!DOCTYPE html><html><body style=\"font-family:Segoe UI,Arial,sans-serif;font-size:14px;\">{html}</body></html>" }.ToMessageBody();
        return message;
    }
}

/// <summary>
/// How fast apologies go out from one agent: at most <c>permits</c> in any window (Exchange Online: 30 messages a
/// minute per mailbox, Notifications:Apology:MessagesPerMinute), one request at a time.
/// </summary>
public sealed class ApologyPace(int permits, TimeSpan window) : IDisposable
{
    public ApologyPace(IOptions<ApologyOptions> options)
        : this(options?.Value.MessagesPerMinute ?? 30, TimeSpan.FromMinutes(1))
    {
    }

    public RateLimiter Limiter { get; } = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits,
        Window = window,
        SegmentsPerWindow = Math.Clamp(permits, 1, 30),
        QueueLimit = 1,
        AutoReplenishment = true,
    });

    public void Dispose() => Limiter.Dispose();
}
