using System.Globalization;
using System.Text;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using AuditAgent.Hosting;
using AuditAgent.Notifications.Templates;
using AuditAgent.Storage;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;

namespace AuditAgent.Notifications;

public sealed record EscalationStep(string Title, string Owner, string Why, string? Instructions, DateTimeOffset DueAt, bool Overdue);

public sealed record EscalationModel(
    long IncidentId,
    string Severity,
    string Why,
    string Headline,
    string Subject,
    string ManagerName,
    string SenderName,
    string SenderAddress,
    string? MessageSubject,
    DateTimeOffset SentAt,
    int ExposedCount,
    int PersonalCount,
    bool ReExposed,
    DateTimeOffset NotifyBy,
    IReadOnlyList<EscalationStep> Steps,
    string SecurityOwner);

public sealed record EscalationRun(int Queued, int WithoutManager, DeliverySummary Delivery);

/// <summary>
/// Tells the sender's manager (from the directory, or a fallback contact) about serious incidents,
/// re-exposures and overdue steps: once per incident and reason, recorded in the incident's timeline.
/// </summary>
public sealed class EscalationService(
    Database database,
    OutboxStore outbox,
    OutboxService delivery,
    EmailRenderer renderer,
    GraphServiceClient graph,
    IOptions<NotificationOptions> options,
    IOptions<ScheduleOptions> schedule,
    TimeProvider time,
    ILogger<EscalationService> logger)
{
    public async Task<EscalationRun> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var quiet = o.QuietStart is { } start && o.QuietEnd is { } end ? new QuietHours(start, end, schedule.Value.Zone) : null;
        var (incidents, steps, existing, mailboxIds) = await LoadAsync(ct);
        var managers = new Dictionary<string, Person?>(StringComparer.OrdinalIgnoreCase);
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
            foreach (var due in Escalations.Due(facts, o.EscalateFromSeverity, now, quiet))
            {
                var key = $"escalation:{incident.Id}:{due.Reason}";
                if (existing.Contains(key))
                {
                    continue;
                }

                if (!managers.TryGetValue(incident.SenderAddress, out var manager))
                {
                    manager = await ManagerAsync(mailboxIds.GetValueOrDefault(incident.SenderAddress) ?? incident.SenderAddress, ct);
                    managers[incident.SenderAddress] = manager;
                }

                var to = manager?.Address ?? o.FallbackEscalationContact ?? o.SecurityContact;
                if (to is null)
                {
                    logger.LogWarning("Incident {Incident}: the sender has no manager in the directory and no Notifications:FallbackEscalationContact is set", incident.Id);
                    withoutManager++;
                    continue;
                }

                var model = Model(incident, incidentSteps, due, manager?.Name ?? "colleague", now);
                var html = await renderer.RenderAsync<EscalationEmail>(new Dictionary<string, object?> { [nameof(EscalationEmail.Model)] = model });
                var who = manager is null ? $"the fallback contact {to} (no manager in the directory)" : $"{manager.Name} <{to}>, the sender's manager";
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

    private async Task<(List<IncidentRow> Incidents, ILookup<long, PlanStepRow> Steps, HashSet<string> Existing, Dictionary<string, string> MailboxIds)> LoadAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var incidents = (await c.QueryAsync<IncidentRow>(new CommandDefinition(
            $"SELECT * FROM incidents WHERE {SqlFragments.OpenIncident()} ORDER BY id",
            commandTimeout: database.CommandTimeout, cancellationToken: ct))).ToList();
        var steps = (await c.QueryAsync<PlanStepRow>(new CommandDefinition(
            $"SELECT s.* FROM plan_steps s JOIN incidents i ON i.id = s.incident_id WHERE {SqlFragments.OpenIncident("i.status")} ORDER BY s.position",
            commandTimeout: database.CommandTimeout, cancellationToken: ct))).ToLookup(s => s.IncidentId);
        var existing = (await c.QueryAsync<string>(new CommandDefinition(
            "SELECT dedupe_key FROM outbox WHERE kind = 'escalation'", commandTimeout: database.CommandTimeout, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        // The directory id of each sender that is a scanned mailbox; other senders are looked up by address.
        var mailboxIds = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (address, id) in await c.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT address, id FROM mailboxes", commandTimeout: database.CommandTimeout, cancellationToken: ct)))
        {
            mailboxIds.TryAdd(address, id);
        }

        return (incidents, steps, existing, mailboxIds);
    }

    private sealed record Person(string Name, string Address);

    /// <summary>The sender's manager from the directory (User.Read.All), or null when there is none.</summary>
    private async Task<Person?> ManagerAsync(string senderIdOrAddress, CancellationToken ct)
    {
        try
        {
            var manager = await graph.Users[senderIdOrAddress].Manager.GetAsync(cancellationToken: ct) as Microsoft.Graph.Models.User;
            var address = manager?.Mail ?? manager?.UserPrincipalName;
            return address is null ? null : new Person(manager!.DisplayName ?? address, address);
        }
        catch (ODataError e) when (e.ResponseStatusCode == 404)
        {
            return null;
        }
    }

    private EscalationModel Model(IncidentRow incident, List<PlanStepRow> steps, EscalationDue due, string managerName, DateTimeOffset now)
    {
        var theirs = steps
            .Where(s => s.IsTodo && s.Owner is "sender" or "manager")
            .Select(s => new EscalationStep(s.Title, s.Owner == "manager" ? "you" : "the sender, with your support", s.Why, s.Instructions, s.DueAt, s.DueAt < now))
            .ToList();
        var owner = incident.Assignee ?? options.Value.SecurityContact ?? "the security team";
        var headline = due.Reason switch
        {
            "re-exposure" => "The same people were exposed again",
            _ when due.Reason.StartsWith("overdue:", StringComparison.Ordinal) => "A step of a privacy incident on your team is overdue",
            _ => "A privacy incident on your team needs your action",
        };
        return new EscalationModel(
            incident.Id, incident.Severity, due.Why, headline, $"{headline}: incident #{incident.Id} ({incident.Severity})", managerName,
            incident.SenderAddress, incident.SenderAddress, Formatting.SafeText.Clean(incident.Subject), incident.FirstSentAt, incident.ExposedCount, incident.PersonalCount,
            incident.ReExposed, NotificationClock.DueAt(incident.DetectedAt), theirs, owner);
    }

    private static string Text(EscalationModel m)
    {
        static string T(DateTimeOffset t) => t.UtcDateTime.ToString("ddd d MMM yyyy HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var b = new StringBuilder();
        b.AppendLine(m.Headline).AppendLine(CultureInfo.InvariantCulture, $"Incident #{m.IncidentId}, severity {m.Severity}: {m.Why}.").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Hello {m.ManagerName},");
        var personal = m.PersonalCount > 0 ? $", {m.PersonalCount} of them private people's own mailboxes." : ".";
        b.AppendLine(CultureInfo.InvariantCulture,
            $"On {T(m.SentAt)}, {Cli.Terminal.Safe(m.SenderAddress)} sent \"{Cli.Terminal.Safe(m.MessageSubject, 120)}\" to {m.ExposedCount} people outside the organisation with every address visible to all of them{personal}");
        b.AppendLine(CultureInfo.InvariantCulture, $"That is a disclosure of personal data; the supervisory authority may have to be notified by {T(m.NotifyBy)}.").AppendLine();
        b.AppendLine("What we need from you:");
        foreach (var s in m.Steps)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- by {T(s.DueAt)}{(s.Overdue ? " (OVERDUE)" : "")}: {s.Title} ({s.Owner}). {s.Why}");
        }

        b.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Do not reply to the recipients or forward the original message. Questions go to {m.SecurityOwner}.");
        return b.ToString();
    }
}
