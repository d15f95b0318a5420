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
public sealed class DigestComposer(DigestQueries queries, OutboxStore outbox, EmailRenderer renderer, DisplayTime display, ConsoleLinks links, TimeProvider time)
{
    /// <summary>The digest for the period since the last one (or the last 24 hours).</summary>
    public async Task<RenderedDigest> RenderAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var periodStart = await outbox.LastDigestAsync(ct) ?? now.AddDays(-1);
        var model = Safe(await queries.BuildAsync(periodStart, now, display.Zone, ct)) with { ConsoleUrl = links.Root };
        var html = await renderer.RenderAsync<DigestEmail>(new Dictionary<string, object?> { [nameof(DigestEmail.Model)] = model });
        return new RenderedDigest(model, model.Subject, html, DigestService.Text(model));
    }

    /// <summary>Names and subjects from mailboxes, cut and without control characters, for both parts of the mail.</summary>
    private static DigestModel Safe(DigestModel m)
    {
        static DigestIncident Clean(DigestIncident i) => i with { SenderName = i.SenderName is { } name ? SafeText.Clean(name, 100) : null, Subject = SafeText.Clean(i.Subject) };
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

    /// <summary>The plain-text part: the same facts, for clients that do not show HTML.</summary>
    public static string Text(DigestModel m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var times = Formatting.DisplayTime.In(m.TimeZone);
        string T(DateTimeOffset t) => times.Minute(t);
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"AuditAgent daily digest, {m.Day:yyyy-MM-dd} ({m.TimeZone})");
        b.AppendLine(CultureInfo.InvariantCulture, $"New incidents: {m.NewIncidents.Count}. Re-exposed: {m.ReExposed.Count}. Open: {m.OpenTotal}. Overdue steps: {m.Overdue.Count}.");
        if (m.IsQuiet)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"Nothing new was found: {m.Health.Mailboxes} mailboxes scanned. This message confirms the agent is running.");
        }

        void Incidents(string title, IReadOnlyList<DigestIncident> list)
        {
            if (list.Count == 0)
            {
                return;
            }

            b.AppendLine().AppendLine(title);
            foreach (var i in list)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  #{i.Id} {i.Severity.ToUpperInvariant()} {SafeText.ForTerminal(i.SenderName)} <{SafeText.ForTerminal(i.Sender)}>: {SafeText.ForTerminal(i.Subject, 100)} ({i.Exposed} exposed, {i.Personal} personal)");
                if (ConsoleLinks.Incident(m.ConsoleUrl, i.Id) is { } link)
                {
                    b.AppendLine(CultureInfo.InvariantCulture, $"     {link}");
                }

                foreach (var reason in i.Reasons.Take(3))
                {
                    b.AppendLine(CultureInfo.InvariantCulture, $"     - {SafeText.ForTerminal(reason, 200)}");
                }

                if (i.NextStep is not null)
                {
                    b.AppendLine(CultureInfo.InvariantCulture, $"     Next: {i.NextStep} ({i.NextStepOwner}, due {T(i.NextStepDue!.Value)})");
                }
            }
        }

        Incidents("New incidents:", m.NewIncidents);
        Incidents("Re-exposed (the same people exposed again):", m.ReExposed);
        if (m.Overdue.Count > 0)
        {
            b.AppendLine().AppendLine("Overdue plan steps:");
            foreach (var s in m.Overdue)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  #{s.IncidentId} ({s.Severity}) {s.Title}, {s.Owner}, was due {T(s.DueAt)}");
            }
        }

        b.AppendLine().AppendLine("Open incidents by severity (total / under 3 days / 3-7 days / over 7 days):");
        foreach (var s in m.OpenBySeverity)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {s.Severity,-9}{s.Total,4} {s.UnderThreeDays,4} {s.ThreeToSevenDays,4} {s.OverSevenDays,4}");
        }

        b.AppendLine().AppendLine("Incidents detected per day, last 14 days:");
        foreach (var d in m.Trend)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {d.Day:ddd dd MMM} {new string('#', Math.Min(d.Total, 60)),-60} {d.Total}");
        }

        if (m.RepeatSenders.Count > 0)
        {
            b.AppendLine().AppendLine("Repeat senders (90 days):");
            foreach (var r in m.RepeatSenders)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  {SafeText.ForTerminal(r.Sender)}: {r.Incidents} incidents");
            }
        }

        b.AppendLine().AppendLine("Suppressed findings:");
        foreach (var s in m.Suppressed)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {s.Findings}: {s.Reason}");
        }

        if (m.Suppressed.Count == 0)
        {
            b.AppendLine("  none in this period");
        }

        if (m.Answers.Count > 0)
        {
            b.AppendLine().AppendLine("Answers from escalation mails:");
            foreach (var a in m.Answers)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  #{a.IncidentId}, {T(a.At)}: {SafeText.ForTerminal(a.Text, 300)}");
            }
        }

        var h = m.Health;
        b.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Scan health: last scan {(h.LastScanAt is { } last ? T(last) : "never")} ({h.LastScanStatus ?? "no scan yet"}), {h.Mailboxes} mailboxes, {h.Failed.Count} failing.");
        foreach (var f in h.Failed.Take(10))
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {SafeText.ForTerminal(f.Address)}: {SafeText.ForTerminal(f.Error, 200)}");
        }

        if (h.LastJobFailure is { } failure)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"Last job failure: {SafeText.ForTerminal(failure, 300)}");
        }

        foreach (var s in h.TroubledSinks)
        {
            var trouble = string.Join("; ", new[]
            {
                s.DeadLetters > 0 ? $"{s.DeadLetters} dead letters (events it refused too often; auditagent events redeliver --sink {s.Name} after fixing it)" : null,
                s.Attempts > 0 ? $"failing now: {SafeText.ForTerminal(s.LastError, 200)}, {s.Backlog} events waiting" : null,
            }.Where(x => x is not null));
            b.AppendLine(CultureInfo.InvariantCulture, $"Event sink {s.Name}: {trouble}.");
        }

        return b.ToString();
    }
}
