using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>The overview: what needs attention now, each figure a link to the list filtered the same way.</summary>
public sealed class IndexModel(ConsoleQueries queries, StatusQueries status, TimeProvider time) : PageModel
{
    public ConsoleOverview Overview { get; private set; } = null!;

    public AgentStatus Agent { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        Overview = await queries.OverviewAsync(Now, ct);
        Agent = await status.GetAsync(ct);
    }
}
