using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web.Pages;

/// <summary>Findings, suppressed ones included with the reason (and the allowlist entry) that kept them out of incidents.</summary>
public sealed class FindingsModel(ConsoleQueries queries, IOptions<WebOptions> web) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public bool Suppressed { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<FindingRow> Rows { get; private set; } = [];

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (Total + web.Value.PageSize - 1) / web.Value.PageSize);

    public async Task OnGetAsync(CancellationToken ct)
    {
        PageNumber = Math.Max(1, PageNumber);
        (Rows, Total) = await queries.FindingsAsync(Suppressed, PageNumber, web.Value.PageSize, ct);
    }

    public string Link(int page) => $"/findings?{(Suppressed ? "suppressed=true&" : "")}page={page}";
}
