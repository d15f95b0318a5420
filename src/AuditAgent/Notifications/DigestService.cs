using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuditAgent.Formatting;
using AuditAgent.Notifications.Templates;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

public sealed record RenderedDigest(DigestModel Model, string Subject, string Html, string Text);

public sealed record DigestRun(bool Enqueued, string Reason, DeliverySummary Delivery);

/// <summary>Gathers and renders the digest (HTML and plain text); needs no mail settings, so previews work anywhere.</summary>
public sealed class DigestComposer(DigestQueries queries, OutboxStore outbox, EmailRenderer renderer, MailTemplates templates, DisplayTime display, ConsoleLinks links, Backtest.BacktestReport backtest, TimeProvider time)
{
    /// <summary>The weekly edition is Monday's: it carries the prevention rule recommendation.</summary>
    public const DayOfWeek WeeklyEdition = DayOfWeek.Monday;

    /// <summary>The digest for the period since the last one (or the last 24 hours).</summary>
    public async Task<RenderedDigest> RenderAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var periodStart = await outbox.LastDigestAsync(ct) ?? now.AddDays(-1);
        var model = Safe(await queries.BuildAsync(periodStart, now, display.Zone, ct)) with { ConsoleUrl = links.Root };
        if (model.Day.DayOfWeek == WeeklyEdition)
        {
            model = model with { Prevention = await PreventionAsync(ct) };
        }

        var html = await renderer.RenderAsync<DigestEmail>(new Dictionary<string, object?> { [nameof(DigestEmail.Model)] = model });
        var (subject, text) = templates.RenderText(MailTemplates.Digest, null, model, display);
        return new RenderedDigest(model, subject, html, text);
    }

    /// <summary>The last 30 days replayed (as `auditagent backtest` does by default); null without an incident to catch.</summary>
    private async Task<DigestPrevention?> PreventionAsync(CancellationToken ct)
    {
        var result = await backtest.RunAsync(new Backtest.BacktestRequest(), ct);
        if (result.Best is not { } best)
        {
            return null;
        }

        var mailTips = result.Rules[0];
        return new DigestPrevention(result.Request.Days, result.IncidentCount, best.Over, best.Interruptions,
            best.PerWeek.ToString("0.#", CultureInfo.InvariantCulture), best.PerWeekPer100Users.ToString("0.##", CultureInfo.InvariantCulture), mailTips.IncidentsMissed.Count);
    }

    /// <summary>Names and subjects from mailboxes, cut and without control characters, for both parts of the mail; each incident's console link.</summary>
    private DigestModel Safe(DigestModel m)
    {
        DigestIncident Clean(DigestIncident i) => i with { SenderName = i.SenderName is { } name ? SafeText.Clean(name, 100) : null, Subject = SafeText.Clean(i.Subject), Link = links.Incident(i.Id) };
        return m with { NewIncidents = [.. m.NewIncidents.Select(Clean)], ReExposed = [.. m.ReExposed.Select(Clean)] };
    }
}

/// <summary>
/// The security team's daily digest, sent exactly once per local day and recipient list through the
/// outbox: a re-run, a restart or a crash after sending never sends a second one.
/// </summary>
public sealed class DigestService(
    DigestComposer composer,
    OutboxStore outbox,
    OutboxService delivery,
    IOptions<NotificationOptions> options,
    DisplayTime display,
    TimeProvider time)
{
    /// <summary>Enqueues today's digest unless it exists already, then delivers whatever is due.</summary>
    public async Task<DigestRun> SendAsync(CancellationToken ct)
    {
        var recipients = options.Value.DigestRecipients;
        if (recipients.Count == 0)
        {
            throw new InvalidOperationException("Notifications:DigestRecipients is empty: the digest has nobody to go to.");
        }

        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), display.Zone).DateTime);
        var key = $"digest:{day:yyyy-MM-dd}:{RecipientsKey(recipients)}";
        string reason;
        var enqueued = false;
        if (await outbox.ExistsAsync(key, ct))
        {
            reason = $"the digest for {day:yyyy-MM-dd} exists already";
        }
        else
        {
            var digest = await composer.RenderAsync(ct);
            if (digest.Model.IsQuiet && !options.Value.SendEmptyDigest)
            {
                reason = "nothing to report and Notifications:SendEmptyDigest is off";
            }
            else
            {
                enqueued = await outbox.EnqueueAsync(
                    new OutboxMessage("digest", key, null, recipients, digest.Subject, digest.Html, digest.Text, time.GetUtcNow()), time.GetUtcNow(), ct) is not null;
                reason = enqueued ? $"digest for {day:yyyy-MM-dd} queued" : $"the digest for {day:yyyy-MM-dd} exists already";
            }
        }

        return new DigestRun(enqueued, reason, await delivery.DeliverAsync(ct));
    }

    private static string RecipientsKey(IEnumerable<string> recipients)
    {
        var joined = string.Join(',', recipients.Select(r => r.Trim().ToLowerInvariant()).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)))[..16];
    }
}
