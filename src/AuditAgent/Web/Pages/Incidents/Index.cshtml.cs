using System.Globalization;
using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web.Pages.Incidents;

/// <summary>
/// The incident list: filters, sort and page all live in the query string, so a filtered list can be
/// bookmarked and linked; several incidents can be acknowledged, assigned or resolved at once.
/// </summary>
public sealed class IndexModel(ConsoleQueries queries, IncidentActions actions, IOptions<WebOptions> web, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Severity { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sender { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Assignee { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Text { get; set; }

    [BindProperty(SupportsGet = true, Name = "reexposed")]
    public bool ReExposed { get; set; }

    [BindProperty(SupportsGet = true, Name = "repeat")]
    public bool RepeatSender { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Overdue { get; set; }

    [BindProperty(SupportsGet = true, Name = "clockdue")]
    public bool ClockDue { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string Sort { get; set; } = "severity";

    [BindProperty(SupportsGet = true)]
    public bool Desc { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public ConsolePage Result { get; private set; } = null!;

    public IReadOnlyList<string> Messages { get; private set; } = [];

    public bool MayTriage => ConsoleRoles.May(User, ConsoleRoles.Policies.Triage);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Messages = TempData["messages"] is string m ? m.Split('\n') : [];
        Result = await queries.ListAsync(Filter(), web.Value.PageSize, time.GetUtcNow(), ct);
    }

    /// <summary>Acknowledge, assign or resolve the selected incidents, each in its own transaction, one line of result each.</summary>
    public async Task<IActionResult> OnPostBulkAsync([FromForm] long[] selected, [FromForm] string action, [FromForm] string? assignee, CancellationToken ct)
    {
        // Razor Pages ignore [Authorize] on handlers: each state change checks its right here.
        if (!MayTriage)
        {
            return Forbid();
        }

        var lines = new List<string>();
        if (selected.Length == 0)
        {
            lines.Add("Select at least one incident.");
        }

        foreach (var id in selected)
        {
            try
            {
                var by = ConsoleRoles.ActorOf(User);
                lines.Add(action switch
                {
                    "acknowledge" => $"Incident {id} is now {(await actions.AcknowledgeAsync(id, by, null, ct)).Name()}.",
                    "resolve" => $"Incident {id} is now {(await actions.ResolveAsync(id, by, null, ct)).Name()}.",
                    "assign" when assignee is { Length: > 0 } => await AssignAsync(id, assignee, by, ct),
                    "assign" => $"Incident {id}: give the person to assign.",
                    _ => $"Incident {id}: unknown action.",
                });
            }
            catch (ExplainedException ex)
            {
                lines.Add($"Incident {id}: {ex.Message}");
            }
        }

        TempData["messages"] = string.Join('\n', lines);
        return Redirect(Request.Path + Request.QueryString);
    }

    private async Task<string> AssignAsync(long id, string assignee, Actor by, CancellationToken ct)
    {
        await actions.AssignAsync(id, assignee.Trim(), by, null, ct);
        return $"Incident {id} is assigned to {assignee.Trim()}.";
    }

    public ConsoleFilter Filter() => new(
        Status is { Length: > 0 } ? Status : "open",
        Severity, Sender, Assignee, Text, ReExposed, RepeatSender, Overdue,
        ClockDue ? time.GetUtcNow().AddHours(24) : null,
        From is { } f ? new DateTimeOffset(f.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        To is { } t ? new DateTimeOffset(t.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        ConsoleQueries.SortColumns.ContainsKey(Sort) ? Sort : "severity",
        Desc,
        Math.Max(1, PageNumber));

    /// <summary>This list's URL with some parts changed (sort, page), every other filter kept.</summary>
    public string Link(string? sort = null, bool? desc = null, int? page = null)
    {
        var parts = new List<KeyValuePair<string, string?>>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(new(key, value));
            }
        }

        Add("status", Status);
        Add("severity", Severity);
        Add("sender", Sender);
        Add("assignee", Assignee);
        Add("q", Text);
        Add("reexposed", ReExposed ? "true" : null);
        Add("repeat", RepeatSender ? "true" : null);
        Add("overdue", Overdue ? "true" : null);
        Add("clockdue", ClockDue ? "true" : null);
        Add("from", From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("to", To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("sort", sort ?? Sort);
        Add("desc", (desc ?? Desc) ? "true" : null);
        Add("page", (page ?? PageNumber) > 1 ? (page ?? PageNumber).ToString(CultureInfo.InvariantCulture) : null);
        return "/incidents" + Microsoft.AspNetCore.Http.QueryString.Create(parts).ToUriComponent();
    }
}
