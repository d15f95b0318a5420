using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>The overview: what needs attention now, each figure a link to the list filtered the same way.</summary>
public sealed class IndexModel(ConsoleQueries queries, StatusQueries status, IncidentStore store, TimeProvider time) : PageModel
{
    public ConsoleOverview Overview { get; private set; } = null!;

    public AgentStatus Agent { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    /// <summary>Distinct people exposed (by keyed address): overall, this calendar quarter (UTC), in more than one incident.</summary>
    public SubjectCounts People { get; private set; } = new();

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        Overview = await queries.OverviewAsync(Now, ct);
        Agent = await status.GetAsync(ct);
        var utc = Now.UtcDateTime;
        People = await store.SubjectCountsAsync(new DateTimeOffset(utc.Year, ((utc.Month - 1) / 3 * 3) + 1, 1, 0, 0, 0, TimeSpan.Zero), ct);
    }
}
