using System.Globalization;
using AuditAgent.Backtest;
using AuditAgent.Core.Backtest;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuditAgent.Web.Pages;

/// <summary>
/// Prevention rules replayed against this tenant's sent mail (what `auditagent backtest` prints), with a chart:
/// how many legitimate messages a week a prompt would interrupt at each threshold, and where the incidents were.
/// </summary>
public sealed class BacktestModel(BacktestReport report) : PageModel
{
    public const int ChartWidth = 640;
    public const int ChartHeight = 220;

    [BindProperty(SupportsGet = true)]
    public int WarnOver { get; set; } = 25;

    [BindProperty(SupportsGet = true)]
    public int BlockOver { get; set; } = 100;

    [BindProperty(SupportsGet = true)]
    public bool ExternalOnly { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Days { get; set; } = 30;

    public BacktestResult Result { get; private set; } = null!;

    /// <summary>The thresholds the chart spans: a little past the largest incident and the thresholds asked for.</summary>
    public int UpTo { get; private set; }

    public IReadOnlyList<(int Over, double PerWeek)> Curve { get; private set; } = [];

    /// <summary>The most interruptions a week on the curve: the top of the chart's scale.</summary>
    public double TopPerWeek { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        (WarnOver, BlockOver, Days) = (Math.Clamp(WarnOver, 1, 100_000), Math.Clamp(BlockOver, 1, 100_000), Math.Clamp(Days, 1, 3650));
        Result = await report.RunAsync(new BacktestRequest(WarnOver, BlockOver, ExternalOnly, Days), ct);
        var incidents = Result.History.Incidents[RuleMetric.VisibleExternal];
        UpTo = Math.Min(500, Math.Max(incidents.Count == 0 ? 0 : incidents.Max(i => i.Count) + 5, Math.Max(WarnOver, 30)));
        Curve = Result.Curve(UpTo);
        TopPerWeek = Curve.Count == 0 ? 0 : Curve.Max(c => c.PerWeek);
    }

    public double X(int over) => 40 + ((ChartWidth - 50) * (over - 1.0) / Math.Max(1, UpTo - 1));

    public double Y(double perWeek) => ChartHeight - 30 - ((ChartHeight - 50) * perWeek / Math.Max(1, TopPerWeek));

    public string Points => string.Join(' ', Curve.Select(c => string.Create(CultureInfo.InvariantCulture, $"{X(c.Over):0.#},{Y(c.PerWeek):0.#}")));
}
