using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using AuditAgent.Formatting;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

/// <summary>A plan step in an escalation mail; <paramref name="Owner"/> is "manager" (the recipient) or "sender".</summary>
public sealed record EscalationStep(string Title, string Owner, string Why, string? Instructions, DateTimeOffset DueAt, bool Overdue);

/// <summary>Up the line: who was asked to see to which step, by when.</summary>
public sealed record EscalationAsked(string Name, string Address, string Step, DateTimeOffset DueAt);

/// <summary>
/// What an escalation template knows (escalation.liquid for a serious incident or a re-exposure, reminder.liquid
/// for an overdue step or a mail up the line). Never an exposed person's address.
/// </summary>
/// <param name="Reason">severity, re-exposure, overdue (a step of the sender or manager is past due) or up (the level above is told).</param>
/// <param name="Why">The reason in the organisation's words, for the footer (English).</param>
public sealed record EscalationModel(
    long IncidentId,
    string Severity,
    string Reason,
    string Why,
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
    string? Link)
{
    /// <summary>For overdue and up: the step's title.</summary>
    public string? StepTitle { get; init; }

    /// <summary>How many levels above the sender's manager the recipient is (0: the manager).</summary>
    public int Level { get; init; }

    /// <summary>For a mail up the line: what was asked of whom, by when.</summary>
    public EscalationAsked? Asked { get; init; }

    /// <summary>Whether the sender was asked what happened (Notifications:AskSender).</summary>
    public bool SenderAsked { get; init; }

    /// <summary>What the sender answered: mistake, recipients-agreed, not-me, no-answer; null while there is no answer.</summary>
    public string? SenderAnswer { get; init; }

    /// <summary>One-click answers for this recipient (each a signed, single-use link to a confirmation page); none without Web:PublicUrl.</summary>
    public IReadOnlyList<EscalationAnswer> Answers { get; init; } = [];
}

/// <summary>An answer link in a mail: the answer's key (for a template's own words), its label and the signed link.</summary>
public sealed record EscalationAnswer(string Key, string Label, string Url);

public sealed record EscalationRun(int Queued, int WithoutManager, DeliverySummary Delivery);

/// <summary>
/// Tells the sender's manager (from the directory, or a fallback contact) about serious incidents,
/// re-exposures and overdue steps: once per incident and reason, recorded in the incident's timeline.
/// </summary>
public sealed class EscalationService(
    EscalationQueries queries,
    OutboxStore outbox,
    OutboxService delivery,
    MailTemplates templates,
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
        var zones = new Dictionary<string, DisplayTime>(StringComparer.OrdinalIgnoreCase); // one mailbox-settings read per person and run
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
                    logger.NoEscalationContact(incident.Id);
                    withoutManager++;
                    continue;
                }

                var model = Model(incident, senderNames.GetValueOrDefault(incident.Id), incidentSteps, due, person?.Name ?? "colleague", now) with
                {
                    Answers = Answers(incident.Id, incidentSteps, to),
                    SenderAsked = incident.SenderAskedAt is not null,
                    SenderAnswer = incident.SenderAnswer,
                    Asked = due.Step is { } step && below is not null ? new EscalationAsked(below.Name, below.Address, step.Title, step.DueAt) : null,
                };
                // In the recipient's language and time zone, where the directory says (the display zone otherwise).
                var times = display;
                if (person is not null && !zones.TryGetValue(person.Address, out times))
                {
                    zones[person.Address] = times = await directory.TimeZoneAsync(person.Address, ct) is { } zone ? DisplayTime.In(zone) : display;
                }

                var mail = templates.Render(model.Reason is "overdue" or "up" ? MailTemplates.Reminder : MailTemplates.Escalation, person?.Language, model, times);
                var who = person is null ? $"the fallback contact {to} (no manager in the directory)"
                    : due.Level == 0 ? $"{person.Name} <{to}>, the sender's manager" : $"{person.Name} <{to}>, {due.Level} level{(due.Level == 1 ? "" : "s")} above the sender's manager";
                var id = await outbox.EnqueueAsync(
                    new OutboxMessage("escalation", key, incident.Id, [to], mail.Subject, mail.Html, mail.Text, due.NotBefore,
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
            .Select(s => new EscalationStep(s.Title, s.Owner, s.Why, s.Instructions, s.DueAt, s.DueAt < now))
            .ToList();
        var reason = due.Level > 0 ? "up" : due.Reason.StartsWith("overdue:", StringComparison.Ordinal) ? "overdue" : due.Reason == "re-exposure" ? "re-exposure" : "severity";
        var name = Formatting.SafeText.Clean(senderName, 100) is { Length: > 0 } n && !n.Equals(incident.SenderAddress, StringComparison.OrdinalIgnoreCase) ? n : null;
        // Named when someone owns it; otherwise the mail says the security team.
        return new EscalationModel(
            incident.Id, incident.Severity, reason, due.Why, Formatting.SafeText.Clean(managerName, 100), name, incident.SenderAddress, Formatting.SafeText.Clean(incident.Subject),
            incident.FirstSentAt, incident.ExposedCount, incident.PersonalCount, incident.ReExposed, NotificationClock.DueAt(incident.DetectedAt), theirs,
            incident.Assignee ?? options.Value.SecurityContact, links.Incident(incident.Id))
        {
            StepTitle = due.Step?.Title ?? steps.FirstOrDefault(s => due.Reason == $"overdue:{s.StepKey}")?.Title,
            Level = due.Level,
        };
    }
}
