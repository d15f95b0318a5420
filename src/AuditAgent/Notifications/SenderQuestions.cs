using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Notifications.Templates;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

public sealed record SenderQuestionModel(
    long IncidentId,
    string Subject,
    string SenderName,
    string? MessageSubject,
    DateTimeOffset SentAt,
    int ExposedCount,
    string? BulkMailPlatform,
    string? SecurityContact,
    string TimeZone,
    IReadOnlyList<EscalationAnswer> Answers);

/// <summary>
/// Notifications:AskSender: right after detection, the sender gets one short mail without blame with three
/// answers; a question left unanswered for Notifications:SenderAnswerHours is recorded as such. Runs with
/// the escalations, before them, so a manager's mail can say what the sender answered.
/// </summary>
public sealed class SenderQuestions(IncidentStore store, OutboxStore outbox, EmailRenderer renderer, AnswerLinks links, IOptions<NotificationOptions> options, DisplayTime display, TimeProvider time)
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
                incident.Id, "A quick question about a message you sent", name, SafeText.Clean(incident.Subject), incident.FirstSentAt, incident.ExposedCount,
                o.BulkMailPlatform, incident.Assignee ?? o.SecurityContact, display.Zone.Id,
                links.For(incident.Id, MailAnswers.FromSender, incident.SenderAddress));
            var html = await renderer.RenderAsync<SenderQuestionEmail>(new Dictionary<string, object?> { [nameof(SenderQuestionEmail.Model)] = model });
            await outbox.EnqueueAsync(
                new OutboxMessage("sender-question", $"ask-sender:{incident.Id}", incident.Id, [incident.SenderAddress], model.Subject, html, Text(model), now,
                    "The sender was asked what happened (a mistake, recipients who agreed, or not sent by them)."),
                now, ct);
            await store.MarkSenderAskedAsync(incident.Id, now, ct);
            asked++;
        }

        return asked + (await store.RecordUnansweredAsync(now.AddHours(-o.SenderAnswerHours), now, ct)).Count;
    }

    private static string Text(SenderQuestionModel m)
    {
        var t = DisplayTime.In(m.TimeZone);
        var lines = new List<string>
        {
            $"Hello {m.SenderName},",
            "",
            $"On {t.InWords(m.SentAt)}, the message \"{SafeText.ForTerminal(m.MessageSubject, 120)}\" went from your mailbox to {m.ExposedCount} people outside the organisation with every address visible to all of them. It happens easily, and we are not asking who is to blame.",
            "It matters because each of those people now has the others' addresses, which is a disclosure of personal data that the organisation has to handle properly.",
            "",
            "Please do not, for now: reply to all, write to the same list again, or send a \"please ignore\" or apology mail to the list (it exposes everyone a second time). The apology is handled for you, the right way.",
            $"Next time you write to many people, put the addresses in Bcc{(m.BulkMailPlatform is { } p ? $", or better, use {p}" : "")}.",
            "",
        };
        if (m.Answers.Count > 0)
        {
            lines.Add("What happened? (each link opens a page where you confirm; it works once, for you)");
            lines.AddRange(m.Answers.Select(a => $"- {a.Label}: {a.Url}"));
        }
        else
        {
            lines.Add($"Please tell {m.SecurityContact ?? "the security team"} whether it was a mistake, whether the recipients had agreed to share their addresses, or whether you did not send it at all.");
        }

        lines.Add("");
        lines.Add("If you did not send this message, say so at once: someone else may be using your account.");
        return string.Join('\n', lines) + "\n";
    }
}
