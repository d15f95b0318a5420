using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Incidents;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages.Incidents;

/// <summary>
/// One incident: everything `incidents show` has, with the actions the person's role allows next to what
/// they act on. Every action goes through <see cref="IncidentActions"/> (as the CLI's do) with the version
/// the page showed, so an incident changed meanwhile is never overwritten unseen.
/// </summary>
public sealed class DetailModel(IncidentQueries queries, IncidentActions actions, IncidentStore store, AuditAgent.Breach.Notices notices, AuditAgent.Breach.EvidenceSeal seal, Microsoft.Extensions.Configuration.IConfiguration configuration, Microsoft.Extensions.Options.IOptions<Notifications.ApologyOptions> apologyOptions, Notifications.MailTemplates templates, DisplayTime display, ConsoleLinks links, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long Id { get; set; }

    /// <summary>The version (newest timeline entry) the page was showing when the person acted.</summary>
    [BindProperty]
    public long Version { get; set; }

    [BindProperty]
    public string? Note { get; set; }

    public IncidentDetail Detail { get; private set; } = null!;

    public IReadOnlyList<(string Domain, int Count)> Domains { get; private set; } = [];

    public IReadOnlyList<RecipientRow>? Revealed { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public DateTimeOffset Now { get; private set; }

    /// <summary>The apology as saved, or null when none was (then <see cref="ApologyDefault"/> is what the page offers).</summary>
    public ApologyRow? Apology { get; private set; }

    public (string Subject, string Body) ApologyDefault { get; private set; }

    /// <summary>How many of the incident's people were exposed in another incident too.</summary>
    public int ExposedElsewhere { get; private set; }

    /// <summary>The breach decisions on the incident, the first first (the last is the one that holds).</summary>
    public IReadOnlyList<AssessmentRow> Decisions { get; private set; } = [];

    /// <summary>Where the agent's sending of the apology stands; null when it was not asked to send it.</summary>
    public ApologySending? Sending { get; private set; }

    /// <summary>The mailbox the agent sends apologies from (Notifications:Apology:Mailbox), or null: then only the recipient list.</summary>
    public string? ApologyMailbox => apologyOptions.Value.Mailbox is { Length: > 0 } m ? m : null;

    public int ApologyPace => apologyOptions.Value.MessagesPerMinute;

    public bool HasApologyStep => Detail.Steps.Any(s => s.StepKey == MailAnswer.ApologySent.Step());

    public long CurrentVersion => Detail.Timeline.Count == 0 ? 0 : Detail.Timeline[^1].Id;

    public bool MayTriage => ConsoleRoles.May(User, ConsoleRoles.Policies.Triage);

    public bool MayDecidePrivacy => ConsoleRoles.May(User, ConsoleRoles.Policies.Privacy);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        Message = TempData["message"] as string;
        Problem = TempData["problem"] as string;
        return await LoadAsync(ct) ? Page() : NotFound();
    }

    /// <summary>The evidence pack as `incidents export` writes it (md, html or json), never with an address.</summary>
    public async Task<IActionResult> OnGetExportAsync([FromQuery] string format, CancellationToken ct)
    {
        if (!await LoadAsync(ct))
        {
            return NotFound();
        }

        var document = Cli.IncidentExport.ToDocument(Detail, Now, Cli.IncidentExport.DomainCounts(Domains), null, display) with { ConsoleLink = links.Incident(Id) };
        var (text, type, extension) = format switch
        {
            "json" => (System.Text.Json.JsonSerializer.Serialize(document, Cli.IncidentsCommand.Json), "application/json", "json"),
            "html" => (Cli.IncidentExport.Html(document), "text/html; charset=utf-8", "html"),
            _ => (Cli.IncidentExport.Markdown(document), "text/markdown; charset=utf-8", "md"),
        };
        return File(System.Text.Encoding.UTF8.GetBytes(await seal.SealAsync(text, extension == "json", ct)), type, $"incident-{Id}.{extension}");
    }

    public Task<IActionResult> OnPostAcknowledgeAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by => $"Acknowledged: the incident is now {(await actions.AcknowledgeAsync(Id, by, Note, ct)).Name()}.");

    public Task<IActionResult> OnPostResolveAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by => $"Resolved: the incident is now {(await actions.ResolveAsync(Id, by, Note, ct)).Name()}.");

    public Task<IActionResult> OnPostReopenAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by => $"Reopened: the incident is now {(await actions.ReopenAsync(Id, by, Note, ct)).Name()}.");

    public Task<IActionResult> OnPostAssignAsync([FromForm] string? assignee, CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by =>
        {
            if (string.IsNullOrWhiteSpace(assignee))
            {
                throw new ActionRefusedException("give the person to assign (their address).");
            }

            await actions.AssignAsync(Id, assignee.Trim(), by, Note, ct);
            return $"Assigned to {assignee.Trim()}.";
        });

    public Task<IActionResult> OnPostStepAsync([FromForm] string step, [FromForm] string status, CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by =>
        {
            var to = status == StepStatus.Skipped.Name() ? StepStatus.Skipped : StepStatus.Done;
            await actions.SetStepAsync(Id, step, to, by, Note, ct);
            return $"Step marked {to.Name()}.";
        });

    public Task<IActionResult> OnPostFalsePositiveAsync([FromForm] string? allowKind, [FromForm] string? allowValue, [FromForm] string? allowReason, [FromForm] DateOnly? allowUntil, CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Privacy, async by =>
        {
            AllowlistRequest? allow = null;
            if (!string.IsNullOrWhiteSpace(allowValue))
            {
                var kind = allowKind == "sender" ? AllowlistKind.Sender : AllowlistKind.Domain;
                allow = new AllowlistRequest(kind, allowValue.Trim(), string.IsNullOrWhiteSpace(allowReason) ? Note ?? "false positive" : allowReason.Trim(),
                    allowUntil is { } until ? new DateTimeOffset(until.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null);
            }

            var status = await actions.MarkFalsePositiveAsync(Id, by, Note, allow, ct);
            return $"Marked as a false positive: the incident is now {status.Name()}" + (allow is null ? "." : $", and {allow.Value} is allowlisted.");
        });

    /// <summary>Shows the exposed addresses on this answer only (never stored in the page's URL or cache), after the reveal is recorded.</summary>
    public async Task<IActionResult> OnPostRevealAsync([FromForm] string? reason, CancellationToken ct)
    {
        if (!MayDecidePrivacy)
        {
            return Forbid();
        }

        try
        {
            Revealed = await actions.RevealRecipientsAsync(Id, ConsoleRoles.ActorOf(User), reason ?? "", ct);
        }
        catch (Exception ex) when (ex is ExplainedException or NotFoundException)
        {
            Problem = ex.Message;
        }

        return await LoadAsync(ct) ? Page() : NotFound();
    }

    /// <summary>
    /// The people to apologise to, as a CSV (name, address; one row per person) for the organisation's
    /// bulk-mail platform, which sends one message per recipient. Who downloaded it and why is in the
    /// timeline before anything leaves, as for a reveal.
    /// </summary>
    public async Task<IActionResult> OnPostRecipientListAsync([FromForm] string? reason, CancellationToken ct)
    {
        if (!MayDecidePrivacy)
        {
            return Forbid();
        }

        IReadOnlyList<RecipientRow> people;
        try
        {
            people = await actions.RevealRecipientsAsync(Id, ConsoleRoles.ActorOf(User), string.IsNullOrWhiteSpace(reason) ? "" : $"recipient list downloaded (CSV) for the apology: {reason.Trim()}", ct);
        }
        catch (Exception ex) when (ex is ExplainedException or NotFoundException)
        {
            Problem = ex.Message;
            return await LoadAsync(ct) ? Page() : NotFound();
        }

        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        Cli.Csv.Write(text, people.DistinctBy(r => r.Address.ToLowerInvariant()).Select(r => new { name = SafeText.Clean(r.Name, 120), address = SafeText.Clean(r.Address, 254) }));
        return File(System.Text.Encoding.UTF8.GetBytes(text.ToString()), "text/csv; charset=utf-8", $"incident-{Id}-recipients.csv");
    }

    public Task<IActionResult> OnPostSaveApologyAsync([FromForm] string? subject, [FromForm] string? body, CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by =>
        {
            await actions.SaveApologyAsync(Id, subject, body, by, ct);
            return "Apology draft saved. A privacy officer approves it before it goes out.";
        });

    public Task<IActionResult> OnPostApproveApologyAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Privacy, async by =>
        {
            await actions.ApproveApologyAsync(Id, by, ct);
            return "Apology approved: it goes to each person alone (the recipient list for the bulk-mail platform is below).";
        });

    /// <summary>The drafted notification to the supervisory authority (Art. 33(3)): Markdown, HTML or Word; never an address.</summary>
    public async Task<IActionResult> OnGetNoticeAsync([FromQuery] string format, CancellationToken ct)
    {
        if (await notices.AuthorityAsync(Id, ct) is not { } notice)
        {
            return NotFound();
        }

        var name = $"incident-{Id}-notification";
        return format switch
        {
            "docx" => File(notice.Docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", name + ".docx"),
            "html" => File(System.Text.Encoding.UTF8.GetBytes(notice.Html()), "text/html; charset=utf-8", name + ".html"),
            "md" => File(System.Text.Encoding.UTF8.GetBytes(notice.Markdown()), "text/markdown; charset=utf-8", name + ".md"),
            _ => BadRequest("format is md, html or docx"),
        };
    }

    /// <summary>When the decision says to tell the people: the notice to them (Art. 34(2)) becomes the apology draft, sent one person per message.</summary>
    public Task<IActionResult> OnPostUseNoticeAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Triage, async by =>
        {
            var (subject, text) = await notices.SubjectsAsync(Id, ct) ?? throw new NotFoundException($"there is no incident {Id}.");
            await actions.SaveApologyAsync(Id, subject, text, by, ct);
            return "The notice to the people (GDPR Art. 34(2)) is now the apology draft below: fill in what is in [BRACKETS]; a privacy officer approves it, then it goes to each person alone.";
        });

    /// <summary>A moment as a datetime-local field shows it: in the console's time zone.</summary>
    public string LocalInput(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, display.Zone).ToString("yyyy-MM-dd'T'HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The breach decision, as `incidents assess` records it; a refusal names every rule it missed.</summary>
    public Task<IActionResult> OnPostAssessAsync(
        [FromForm] string? risk, [FromForm] string? reasons, [FromForm] string? notify, [FromForm] string? rationale, [FromForm] string? tell,
        [FromForm] string? ground, [FromForm] string? groundDetail, [FromForm] string? aware, [FromForm] string? awareReason,
        [FromForm] string? delay, [FromForm] string? notified, [FromForm] string? reference, CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Privacy, async by =>
        {
            var incident = (await queries.GetAsync(Id, ct))?.Incident ?? throw new NotFoundException($"there is no incident {Id}.");
            var awareAt = FromInput(aware) ?? incident.Awareness;
            // The field shows minutes: an unchanged one means the awareness as it was.
            if (Math.Abs((awareAt - incident.Awareness).TotalMinutes) < 1)
            {
                awareAt = incident.Awareness;
            }

            var assessment = new AuditAgent.Core.Breach.BreachAssessment(
                AuditAgent.Core.Breach.BreachRules.TryParseRisk(risk, out var level) ? level : throw new ActionRefusedException("choose the risk."),
                reasons?.Trim() ?? "", notify != "no", Blank(rationale),
                AuditAgent.Core.Breach.BreachRules.TryParseNotice(tell, out var notice) ? notice : throw new ActionRefusedException("choose whether the people are told."),
                AuditAgent.Core.Breach.BreachRules.TryParseGround(ground, out var g) ? g : null, Blank(groundDetail),
                awareAt, Blank(awareReason), Blank(delay), FromInput(notified), Blank(reference));
            await actions.RecordAssessmentAsync(Id, assessment, by, ct);
            return "Breach decision recorded: " + AuditAgent.Core.Breach.BreachRules.Summary(assessment);
        });

    private DateTimeOffset? FromInput(string? local) =>
        DateTime.TryParseExact(local, "yyyy-MM-dd'T'HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var t)
            ? new DateTimeOffset(t, display.Zone.GetUtcOffset(t)).ToUniversalTime()
            : null;

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    public Task<IActionResult> OnPostSendApologyAsync(CancellationToken ct) =>
        ActAsync(ConsoleRoles.Policies.Privacy, async by =>
        {
            var count = await actions.SendApologyAsync(Id, by, ct);
            return $"The agent sends the apology to {count} people from {ApologyMailbox}, each alone in one message; the step closes when all have gone.";
        });

    private async Task<IActionResult> ActAsync(string policy, Func<Actor, Task<string>> act)
    {
        // Razor Pages ignore [Authorize] on handlers: each state change checks its right here.
        if (!ConsoleRoles.May(User, policy))
        {
            return Forbid();
        }

        try
        {
            TempData["message"] = await act(ConsoleRoles.ActorOf(User, Version));
        }
        catch (Exception ex) when (ex is ExplainedException or InvalidTransitionException or NotFoundException)
        {
            TempData["problem"] = ex.Message;
        }

        return RedirectToPage(new { Id });
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        var detail = await queries.GetAsync(Id, ct);
        if (detail is null)
        {
            return false;
        }

        Detail = detail;
        Domains = await queries.ExposedDomainsAsync(Id, ct);
        Apology = await store.ApologyAsync(Id, ct);
        Sending = await store.ApologySendingAsync(Id, ct);
        Decisions = await store.AssessmentsAsync(Id, ct);
        ExposedElsewhere = await store.ExposedElsewhereAsync(Id, ct);
        // The mail settings' words for the apology, read without the mail transport's validation: the console works without mail.
        var n = Microsoft.Extensions.Configuration.ConfigurationBinder.Get<Notifications.NotificationOptions>(configuration.GetSection(Notifications.NotificationOptions.Section)) ?? new();
        ApologyDefault = templates.RenderText(Notifications.MailTemplates.Apology, null, new ApologyFacts(detail.Incident.FirstSentAt, detail.Incident.ExposedCount, detail.Incident.PersonalCount, detail.Incident.ReExposed,
            "[YOUR NAME, ROLE]", n.Organisation, n.SecurityContact, n.ApologyOffer, n.BulkMailPlatform), display);
        return true;
    }
}
