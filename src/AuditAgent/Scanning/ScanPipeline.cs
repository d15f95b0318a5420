using AuditAgent.Core.Scans;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Scanning;

/// <summary>What one scan did: the mailboxes read, then the incidents its findings opened or changed.</summary>
public sealed record ScanResult(ScanSummary Scan, IncidentRunSummary Incidents);

/// <summary>Incident processing failed after the scan itself: the run is recorded as failed.</summary>
public sealed class IncidentProcessingException(string message, Exception inner) : ExplainedException(message, inner);

/// <summary>
/// A scan is two halves: read Sent Items into findings, then turn new findings into incidents. This is
/// the one place they are put together (the scheduled job, a cluster agent joining a cycle, the scan and
/// demo commands), so that incident processing failing is a failed scan wherever scans are reported.
/// </summary>
public sealed class ScanPipeline(ScanService scan, IncidentService incidents, ReplyWatch replies, ScanStore store, ILogger<ScanPipeline> logger)
{
    public async Task<ScanResult> RunAsync(IProgress<ScanProgress>? progress, CancellationToken ct)
    {
        var summary = await scan.RunAsync(progress, ct);
        if (summary.Mailboxes == 0 && summary.Outcome == ScanOutcome.Succeeded)
        {
            logger.NoMailboxesScanned();
        }

        var result = await ProcessAsync(summary, ct);

        // Open incidents (those this pass opened too) are then watched for replies to all; what it finds goes on
        // their timelines in a second pass.
        return await WatchRepliesAsync(ct) > 0 ? result with { Incidents = result.Incidents.Plus((await ProcessAsync(summary, ct)).Incidents) } : result;
    }

    /// <summary>The reply watch is a second look: when it cannot run, the scan still counts, and the next cycle tries again.</summary>
    private async Task<int> WatchRepliesAsync(CancellationToken ct)
    {
        try
        {
            return (await replies.RunAsync(ct)).NewReplies;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.ReplyWatchFailed(GraphErrors.Describe(ex));
            return 0;
        }
    }

    /// <summary>Helps with another agent's cycle; null when there was nothing to do.</summary>
    public async Task<ScanResult?> JoinAsync(CancellationToken ct) =>
        await scan.JoinAsync(ct) is { } summary ? await ProcessAsync(summary, ct) : null;

    private async Task<ScanResult> ProcessAsync(ScanSummary summary, CancellationToken ct)
    {
        try
        {
            return new ScanResult(summary, await incidents.ProcessAsync(ct));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var reason = $"incident processing failed: {GraphErrors.Describe(ex)}";
            await store.FailRunAsync(summary.RunId, reason, CancellationToken.None);
            throw new IncidentProcessingException(reason, ex);
        }
    }
}
