using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>The agents sharing this database, the current cycle and each agent's share, and every mailbox's lag and error.</summary>
public sealed class AgentsModel(StatusQueries status, TimeProvider time) : PageModel
{
    public AgentStatus Status { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        Status = await status.GetAsync(ct);
    }
}
