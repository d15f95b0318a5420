using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>Partner domains and senders whose mail is not an incident: added with a reason and an expiry, removed, expired ones shown as such.</summary>
public sealed class AllowlistModel(IncidentStore store, IncidentActions actions, TimeProvider time) : PageModel
{
    public IReadOnlyList<AllowlistEntry> Entries { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public bool MayChange => ConsoleRoles.May(User, ConsoleRoles.Policies.Admin);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Message = TempData["message"] as string;
        Problem = TempData["problem"] as string;
        Now = time.GetUtcNow();
        Entries = await store.ListAllowlistAsync(ct);
    }

    public async Task<IActionResult> OnPostAddAsync([FromForm] string kind, [FromForm] string value, [FromForm] string reason, [FromForm] DateOnly? until, CancellationToken ct)
    {
        if (!MayChange)
        {
            return Forbid();
        }

        try
        {
            var request = new AllowlistRequest(kind == "sender" ? AllowlistKind.Sender : AllowlistKind.Domain, (value ?? "").Trim(), (reason ?? "").Trim(),
                until is { } u ? new DateTimeOffset(u.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null);
            if (request.Value.Length == 0 || request.Reason.Length == 0)
            {
                throw new ActionRefusedException("give the domain or sender and the reason.");
            }

            var entry = await actions.AddAllowlistAsync(request, ConsoleRoles.ActorOf(User).Name, ct);
            TempData["message"] = $"Added entry {entry}: {request.Value}.";
        }
        catch (ExplainedException ex)
        {
            TempData["problem"] = ex.Message;
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostRemoveAsync([FromForm] long entry, CancellationToken ct)
    {
        if (!MayChange)
        {
            return Forbid();
        }

        try
        {
            await actions.RemoveAllowlistAsync(entry, ct);
            TempData["message"] = $"Removed entry {entry}.";
        }
        catch (Exception ex) when (ex is ExplainedException or NotFoundException)
        {
            TempData["problem"] = ex.Message;
        }

        return RedirectToPage();
    }
}
