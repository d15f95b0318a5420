using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Graph;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

/// <summary>What the sender-question template knows. Never an exposed person's address.</summary>
public sealed record SenderQuestionModel(
    long IncidentId,
    string SenderName,
    string? MessageSubject,
    DateTimeOffset SentAt,
    int ExposedCount,
    string? BulkMailPlatform,
    string? SecurityContact,
    IReadOnlyList<EscalationAnswer> Answers);

/// <summary>
/// Notifications:AskSender: right after detection, the sender gets one short mail without blame with three
/// answers; a question left unanswered for Notifications:SenderAnswerHours is recorded as such. Runs with
/// the escalations, before them, so a manager's mail can say what the sender answered.
/// </summary>
public sealed class SenderQuestions(IncidentStore store, OutboxStore outbox, MailTemplates templates, GraphDirectory directory, AnswerLinks links, IOptions<NotificationOptions> options, DisplayTime display, TimeProvider time)
{
    /// <summary>Incidents detected longer ago than this are not asked about when the option is turned on later.</summary>
    private static readonly TimeSpan AskWithin = TimeSpan.FromDays(3);

    /// <summary>Queues the questions due (once per incident) and records the silences; returns how many incidents this changed.</summary>
    public async Task<int> RunAsync(IReadOnlyList<IncidentRow> open, IReadOnlyDictionary<long, string?> senderNames, CancellationToken ct)
    {
        var o = options.Value;
        if (!o.AskSender)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        var asked = 0;
        foreach (var incident in open.Where(i => i.SenderAskedAt is null && i.SenderAnswer is null && now - i.DetectedAt <= AskWithin))
        {
            var name = SafeText.Clean(senderNames.GetValueOrDefault(incident.Id), 100) is { Length: > 0 } n && !n.Contains('@', StringComparison.Ordinal) ? n.Split(' ')[0] : "colleague";
            var model = new SenderQuestionModel(
                incident.Id, name, SafeText.Clean(incident.Subject), incident.FirstSentAt, incident.ExposedCount,
                o.BulkMailPlatform, incident.Assignee ?? o.SecurityContact, links.For(incident.Id, MailAnswers.FromSender, incident.SenderAddress));
            var times = await directory.TimeZoneAsync(incident.SenderAddress, ct) is { } zone ? DisplayTime.In(zone) : display;
            var mail = templates.Render(MailTemplates.SenderQuestion, await directory.LanguageAsync(incident.SenderAddress, ct), model, times);
            await outbox.EnqueueAsync(
                new OutboxMessage("sender-question", $"ask-sender:{incident.Id}", incident.Id, [incident.SenderAddress], mail.Subject, mail.Html, mail.Text, now,
                    "The sender was asked what happened (a mistake, recipients who agreed, or not sent by them)."),
                now, ct);
            await store.MarkSenderAskedAsync(incident.Id, now, ct);
            asked++;
        }

        return asked + (await store.RecordUnansweredAsync(now.AddHours(-o.SenderAnswerHours), now, ct)).Count;
    }
}
