using AuditAgent.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web;

/// <summary>
/// `GET /readyz` for orchestrators: the database answers, the last successful scan is recent enough, and no
/// job's latest run failed. JSON with one line per check; no incident, address or subject.
/// </summary>
internal static class Readiness
{
    public static async Task<IResult> CheckAsync(StatusQueries status, OperationsStore operations, IOptions<WebOptions> web, TimeProvider time, CancellationToken ct)
    {
        var checks = new Dictionary<string, string>(StringComparer.Ordinal);
        var ready = true;
        DateTimeOffset? lastGood;
        try
        {
            // Probes come every few seconds: one aggregate, not the whole status (every mailbox, the cluster).
            lastGood = await status.LastGoodScanAsync(ct);
            checks["database"] = "ok";
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            checks["database"] = "unreachable";
            return Results.Json(new { status = "not ready", checks }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var now = time.GetUtcNow();
        var maxAge = TimeSpan.FromMinutes(web.Value.ReadyMaxScanAgeMinutes);
        if (lastGood is { } finished)
        {
            var age = now - finished;
            ready &= age <= maxAge;
            checks["scan"] = age <= maxAge ? $"last scan {age.TotalMinutes:0} minutes ago" : $"last successful scan {age.TotalMinutes:0} minutes ago, more than {maxAge.TotalMinutes:0}";
        }
        else
        {
            // A new agent has not scanned yet: ready for as long as a scan may take to come.
            var waiting = now - AgentInstance.ProcessStartedAt <= maxAge;
            ready &= waiting;
            checks["scan"] = "no successful scan yet";
        }

        // A job that failed once and will be retried at its next fire is not yet a reason to take the console out.
        var tolerance = TimeSpan.FromMinutes(web.Value.ReadyMaxJobFailingMinutes);
        var failing = (await operations.FailingSinceAsync(ct)).Where(f => now - f.Value > tolerance).Select(f => f.Key).Order(StringComparer.Ordinal).ToList();
        ready &= failing.Count == 0;
        checks["jobs"] = failing.Count == 0 ? "ok" : $"failing for more than {tolerance.TotalMinutes:0} minutes: {string.Join(", ", failing)}";
        return Results.Json(new { status = ready ? "ready" : "not ready", checks }, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
