using AuditAgent.Breach;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>The breach register (GDPR Art. 33(5)): every incident that is not a false positive, with its decision; downloads as `register export` writes them.</summary>
public sealed class RegisterModel(RegisterQueries queries, TimeProvider time) : PageModel
{
    public IReadOnlyList<RegisterEntry> Entries { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        Entries = await queries.ListAsync(ct);
    }

    public async Task<IActionResult> OnGetExportAsync([FromQuery] string format, CancellationToken ct)
    {
        var entries = await queries.ListAsync(ct);
        var day = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return format switch
        {
            "xlsx" => File(RegisterExport.Xlsx(entries), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"breach-register-{day}.xlsx"),
            "json" => File(System.Text.Encoding.UTF8.GetBytes(RegisterExport.Json(entries)), "application/json", $"breach-register-{day}.json"),
            "csv" => File(System.Text.Encoding.UTF8.GetBytes(RegisterExport.Csv(entries)), "text/csv; charset=utf-8", $"breach-register-{day}.csv"),
            _ => BadRequest("format is csv, json or xlsx"),
        };
    }
}
