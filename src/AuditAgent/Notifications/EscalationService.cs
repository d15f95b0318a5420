using System.Globalization;
using System.Text;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using AuditAgent.Graph;
using AuditAgent.Formatting;
using AuditAgent.Notifications.Templates;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

public sealed record EscalationStep(string Title, string Owner, string Why, string? Instructions, DateTimeOffset DueAt, bool Overdue);

public sealed record EscalationModel(
    long IncidentId,
    string Severity,
    string? Detail,
    string Why,
    string Headline,
    string Subject,
    string ManagerName,
    string? SenderName,
    string SenderAddress,
    string? MessageSubject,
    DateTimeOffset SentAt,
    int ExposedCount,
    int PersonalCount,
    bool ReExposed,
    DateTimeOffset NotifyBy,
    IReadOnlyList<EscalationStep> Steps,
    string? SecurityOwner,
    string TimeZone,
    string? Link = null)
{
    /// <summary>For a mail up the line: what was asked of whom, by when (null otherwise).</summary>
    public string? AskedBelow { get; init; }

    /// <summary>What the sender answered when asked (Notifications:AskSender), in words; null when they were not asked.</summary>
    public string? SenderAnswer { get; init; }

    /// <summary>One-click answers for this recipient (each a signed, single-use link to a confirmation page); none without Web:PublicUrl.</summary>
    public IReadOnlyList<EscalationAnswer> Answers { get; init; } = [];
}

/// <summary>An answer link in an escalation mail.</summary>
public sealed record EscalationAnswer(string Label, string Url);

public sealed record EscalationRun(int Queued, int WithoutManager, DeliverySummary Delivery);

/// <summary>
/// Tells the sender's manager (from the directory, or a fallback contact) about serious incidents,
/// re-exposures and overdue steps: once per incident and reason, recorded in the incident's timeline.
/// </summary>
public sealed class EscalationService(
    EscalationQueries queries,
    OutboxStore outbox,
    OutboxService delivery,
    EmailRenderer renderer,
    GraphDirectory directory,
    IOptions<NotificationOptions> options,
    DisplayTime display,
    ConsoleLinks links,
    AnswerLinks answers,
    SenderQuestions questions,
    AnswerAlerts alerts,
    TimeProvider time,
    ILogger<EscalationService> logger)
{
    public async Task<EscalationRun> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var quiet = o.QuietStart is { } start && o.QuietEnd is { } end ? new QuietHours(start, end, display.Zone) : null;
        var (incidents, steps, existing, mailboxIds, senderNames) = await queries.LoadAsync(ct);
        await alerts.CatchUpAsync(ct); // answers whose alert an interrupted page did not queue
        if (await questions.RunAsync(incidents, senderNames, ct) > 0)
        {
            (incidents, steps, existing, mailboxIds, senderNames) = await queries.LoadAsync(ct); // what the sender answered, or that they did not
        }

        var managers = new Dictionary<string, DirectoryPerson?>(StringComparer.OrdinalIgnoreCase);
        int queued = 0, withoutManager = 0;
        foreach (var incident in incidents)
        {
            var incidentSteps = steps[incident.Id].ToList();
            var facts = new EscalationFacts(
                incident.Id,
                SeverityNames.TryParse(incident.Severity, out var s) ? s : Severity.Low,
                IncidentLifecycle.TryParse(incident.Status, out var st) ? st : IncidentStatus.New,
                incident.ReExposed,
                incidentSteps.Select(x => new StepFacts(x.StepKey, x.Title, OwnerRoles.TryParse(x.Owner, out var r) ? r : OwnerRole.Security, x.DueAt, x.IsTodo)).ToList());
            foreach (var due in Escalations.Due(facts, o.EscalateFromSeverity, now, quiet, new EscalationLadder(o.EscalationDepth, TimeSpan.FromHours(o.EscalateUpAfterHours))))
            {
                var key = $"escalation:{incident.Id}:{due.Reason}";
                if (existing.Contains(key))
                {
                    continue;
                }

                if (!managers.TryGetValue(incident.SenderAddress, out var manager))
                {
                    manager = await directory.ManagerAsync(mailboxIds.GetValueOrDefault(incident.SenderAddress) ?? incident.SenderAddress, ct);
                    managers[incident.SenderAddress] = manager;
                }

                // Up the line: the manager's manager, and so on; a chain that ends there stops there.
                var below = manager;
                var person = manager;
                for (var level = 1; level <= due.Level && person is not null; level++)
                {
                    below = person;
                    if (!managers.TryGetValue(person.Address, out var above))
                    {
                        above = await directory.ManagerAsync(person.Address, ct);
                        managers[person.Address] = above;
                    }

                    person = above;
                }

                if (due.Level > 0 && person is null)
                {
                    existing.Add(key); // nobody further up in the directory
                    continue;
                }

                var to = person?.Address ?? o.FallbackEscalationContact ?? o.SecurityContact;
                if (to is null)
                {
                    logger.LogWarning("Incident {Incident}: the sender has no manager in the directory and no Notifications:FallbackEscalationContact is set", incident.Id);
                    withoutManager++;
                    continue;
                }

                var model = Model(incident, senderNames.GetValueOrDefault(incident.Id), incidentSteps, due, person?.Name ?? "colleague", now) with
                {
                    Answers = Answers(incident.Id, incidentSteps, to),
                    SenderAnswer = MailAnswers.SenderAnswerWords(incident.SenderAskedAt is not null, incident.SenderAnswer),
                    AskedBelow = due.Step is { } step && below is not null
                        ? $"{below.Name} ({below.Address}) was asked to see to \"{step.Title}\" by {display.InWords(step.DueAt)}; it is still open."
                        : null,
                };
                var html = await renderer.RenderAsync<EscalationEmail>(new Dictionary<string, object?> { [nameof(EscalationEmail.Model)] = model });
                var who = person is null ? $"the fallback contact {to} (no manager in the directory)"
                    : due.Level == 0 ? $"{person.Name} <{to}>, the sender's manager" : $"{person.Name} <{to}>, {due.Level} level{(due.Level == 1 ? "" : "s")} above the sender's manager";
                var id = await outbox.EnqueueAsync(
                    new OutboxMessage("escalation", key, incident.Id, [to], model.Subject, html, Text(model), due.NotBefore,
                        $"Escalated to {who} because {due.Why}" + (due.NotBefore > now ? $"; held for quiet hours until {due.NotBefore.UtcDateTime:yyyy-MM-dd HH:mm} UTC." : ".")),
                    now,
                    ct);
                if (id is not null)
                {
                    queued++;
                }

                existing.Add(key);
            }
        }

        return new EscalationRun(queued, withoutManager, await delivery.DeliverAsync(ct));
    }

    /// <summary>The answers this recipient may give: those whose plan step is still to do, and the two that need none.</summary>
    private IReadOnlyList<EscalationAnswer> Answers(long incidentId, List<PlanStepRow> steps, string recipient) =>
        answers.For(incidentId, MailAnswers.All.Where(a => a.Step() is not { } key || steps.Any(s => s.StepKey == key && s.IsTodo)), recipient);

    private EscalationModel Model(IncidentRow incident, string? senderName, List<PlanStepRow> steps, EscalationDue due, string managerName, DateTimeOffset now)
    {
        var theirs = steps
            .Where(s => s.IsTodo && s.Owner is "sender" or "manager")
            .Select(s => new EscalationStep(s.Title, s.Owner == "manager" ? "you" : "the sender, with your support", s.Why, s.Instructions, s.DueAt, s.DueAt < now))
            .ToList();
        // Named when someone owns it; otherwise the mail says the security team, once.
        var owner = incident.Assignee ?? options.Value.SecurityContact;
        var headline = due.Reason switch
        {
            _ when due.Level > 0 => "A privacy incident in your organisation is waiting for action",
            "re-exposure" => "The same people were exposed again",
            _ when due.Reason.StartsWith("overdue:", StringComparison.Ordinal) => "A step of a privacy incident on your team is overdue",
            _ => "A privacy incident on your team needs your action",
        };
        // The header already names the severity; repeating it there reads "severity high · severity high".
        var why = due.Reason.StartsWith("severity:", StringComparison.Ordinal) ? null : due.Why;
        var name = Formatting.SafeText.Clean(senderName, 100) is { Length: > 0 } n && !n.Equals(incident.SenderAddress, StringComparison.OrdinalIgnoreCase) ? n : null;
        return new EscalationModel(
            incident.Id, incident.Severity, why, due.Why, headline, $"{headline}: incident #{incident.Id} ({incident.Severity})", managerName,
            name, incident.SenderAddress, Formatting.SafeText.Clean(incident.Subject), incident.FirstSentAt, incident.ExposedCount, incident.PersonalCount,
            incident.ReExposed, NotificationClock.DueAt(incident.DetectedAt), theirs, owner, display.Zone.Id, links.Incident(incident.Id));
    }

    private static string Text(EscalationModel m)
    {
        var times = Formatting.DisplayTime.In(m.TimeZone);
        string T(DateTimeOffset t) => times.InWords(t);
        var b = new StringBuilder();
        var detail = m.Detail is null ? "." : $": {m.Detail}.";
        b.AppendLine(m.Headline).AppendLine(CultureInfo.InvariantCulture, $"Incident #{m.IncidentId}, severity {m.Severity}{detail}");
        if (m.Link is not null)
        {
            b.AppendLine(m.Link);
        }

        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Hello {m.ManagerName},");
        var personal = m.PersonalCount > 0 ? $", {m.PersonalCount} of them private people's own mailboxes." : ".";
        b.AppendLine(CultureInfo.InvariantCulture,
            $"On {T(m.SentAt)}, {Sender(m)} sent \"{Formatting.SafeText.ForTerminal(m.MessageSubject, 120)}\" to {m.ExposedCount} people outside the organisation with every address visible to all of them{personal}");
        b.AppendLine(CultureInfo.InvariantCulture, $"That is a disclosure of personal data; the supervisory authority may have to be notified by {T(m.NotifyBy)}.");
        if (m.AskedBelow is { } asked)
        {
            b.AppendLine(asked);
        }

        if (m.SenderAnswer is { } said)
        {
            b.AppendLine(said);
        }

        b.AppendLine();
        b.AppendLine("What we need from you:");
        foreach (var s in m.Steps)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- by {T(s.DueAt)}{(s.Overdue ? " (OVERDUE)" : "")}: {s.Title} ({s.Owner}). {s.Why}");
        }

        if (m.Answers.Count > 0)
        {
            b.AppendLine().AppendLine("Answer with one click (each link opens a page where you confirm; it works once, for you):");
            foreach (var a in m.Answers)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"- {a.Label}: {a.Url}");
            }
        }

        var questions = m.SecurityOwner is null ? "the security team." : $"{m.SecurityOwner}, who owns this incident in the security team.";
        b.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Do not reply to the recipients or forward the original message. Questions go to {questions}");
        return b.ToString();
    }

    private static string Sender(EscalationModel m) =>
        m.SenderName is null ? Formatting.SafeText.ForTerminal(m.SenderAddress) : $"{Formatting.SafeText.ForTerminal(m.SenderName)} ({Formatting.SafeText.ForTerminal(m.SenderAddress)})";
}
