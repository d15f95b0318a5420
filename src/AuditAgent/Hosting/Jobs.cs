using AuditAgent.Core.Scans;
using AuditAgent.Graph;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuditAgent.Hosting;

/// <summary>
/// Runs a job's work and records it in job_runs, so that `status` and the digest show every failure.
/// A failure is rethrown to Quartz (and logged); the next fire tries again.
/// </summary>
public sealed class JobRunner(OperationsStore store, TimeProvider time, IHostApplicationLifetime lifetime, Telemetry.AgentMetrics metrics, ILogger<JobRunner> logger)
{
    /// <param name="work">Gets a token that is cancelled when Quartz interrupts the job or the host is stopping
    /// (SIGTERM, Ctrl+C): a scan then commits what it read and stops, so the process exits promptly.</param>
    public async ValueTask RunAsync(string job, Func<CancellationToken, Task<string>> work, CancellationToken quartzToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(quartzToken, lifetime.ApplicationStopping);
        var ct = linked.Token;
        using var activity = Telemetry.AgentTracing.Source.StartActivity("job " + job);
        var started = time.GetTimestamp();
        var id = await store.StartJobAsync(job, time.GetUtcNow(), CancellationToken.None);
        try
        {
            var summary = await work(ct);
            await store.FinishJobAsync(id, ScanOutcome.Succeeded.Name(), summary, null, time.GetUtcNow());
            Finished(ScanOutcome.Succeeded);
            logger.LogInformation("Job {Job} succeeded: {Summary}", job, summary);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // A stop is not a failure: what was read is committed and the next run resumes.
            await store.FinishJobAsync(id, ScanOutcome.Cancelled.Name(), "stopped by shutdown; the next run resumes", null, time.GetUtcNow());
            Finished(ScanOutcome.Cancelled);
            logger.LogInformation("Job {Job} stopped for shutdown; the next run resumes", job);
        }
        catch (Exception ex)
        {
            var reason = GraphErrors.Describe(ex);
            await store.FinishJobAsync(id, ScanOutcome.Failed.Name(), null, reason, time.GetUtcNow());
            Telemetry.AgentTracing.Fail(activity, ex);
            Finished(ScanOutcome.Failed);
            logger.JobFailed(ex, job, reason);
            throw new JobExecutionException(reason, ex);
        }

        void Finished(ScanOutcome outcome)
        {
            activity?.SetTag("auditagent.outcome", outcome.Name());
            metrics.JobFinished(job, outcome.Name(), time.GetElapsedTime(started));
        }
    }
}

public static class JobNames
{
    public const string Scan = "scan-sent-items";
    public const string Digest = "send-daily-digest";
    public const string Escalate = "escalate-incidents";
    public const string Purge = "purge-expired-data";
    public const string Apologies = "send-apologies";

    /// <summary>Not a schedule: an agent helping with a scan cycle another agent's fire opened (PostgreSQL).</summary>
    public const string JoinScan = "join-scan-cycle";
}

/// <summary>Scans Sent Items, then turns new findings into incidents.</summary>
[DisallowConcurrentExecution]
public sealed class ScanSentItemsJob(JobRunner runner, ScanPipeline scan) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        runner.RunAsync(JobNames.Scan, async ct =>
        {
            var outcome = await scan.RunAsync(null, ct);
            var s = outcome.Scan;
            if (s.Outcome == ScanOutcome.Failed && s.Mailboxes > 0)
            {
                throw new InvalidOperationException($"every mailbox failed, e.g. {s.Failures[0].Reason}");
            }

            return Describe(outcome);
        }, cancellationToken);

    internal static string Describe(ScanResult outcome)
    {
        var (s, i) = (outcome.Scan, outcome.Incidents);
        return $"{s.Status}: {s.Mailboxes} mailboxes ({s.Failures.Count} failed), {s.Messages} messages, {s.NewFindings} findings; {i.Opened} incidents opened, {i.Updated} updated";
    }
}

[DisallowConcurrentExecution]
public sealed class SendDailyDigestJob(JobRunner runner, DigestService digest) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        runner.RunAsync(JobNames.Digest, async ct =>
        {
            var run = await digest.SendAsync(ct);
            if (run.Delivery.Failed > 0)
            {
                throw new InvalidOperationException($"{run.Reason}, but {run.Delivery.Failed} messages could not be sent; the next fire retries");
            }

            return $"{run.Reason}; sent {run.Delivery.Sent}";
        }, cancellationToken);
}

[DisallowConcurrentExecution]
public sealed class EscalateIncidentsJob(JobRunner runner, EscalationService escalations) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        runner.RunAsync(JobNames.Escalate, async ct =>
        {
            var run = await escalations.RunAsync(ct);
            if (run.Delivery.Failed > 0)
            {
                throw new InvalidOperationException($"{run.Delivery.Failed} escalations could not be sent; the next fire retries");
            }

            return $"{run.Queued} escalations queued, {run.Delivery.Sent} sent, {run.WithoutManager} without a manager or fallback";
        }, cancellationToken);
}

/// <summary>Sends approved apologies the agent was asked to send, paced; a long list runs across fires.</summary>
[DisallowConcurrentExecution]
public sealed class SendApologiesJob(JobRunner runner, ApologySender apologies) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        runner.RunAsync(JobNames.Apologies, async ct =>
        {
            var run = await apologies.SendAsync(ct);
            if (run.Failed > 0)
            {
                throw new InvalidOperationException($"{run.Failed} apology messages could not be sent; the next fire retries them");
            }

            return $"{run.Sent} apology messages sent, {run.Recovered} found sent after an interruption" + (run.DailyLimitReached ? "; the day's limit is reached" : "");
        }, cancellationToken);
}

[DisallowConcurrentExecution]
public sealed class PurgeExpiredDataJob(JobRunner runner, OperationsStore store, IOptions<RetentionOptions> retention, TimeProvider time) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        runner.RunAsync(JobNames.Purge, async ct =>
        {
            var now = time.GetUtcNow();
            var r = retention.Value;
            var result = await store.PurgeAsync(now.AddDays(-r.ClosedIncidentRecipientsDays), now.AddDays(-r.BccMessageRecipientsDays), now.AddDays(-r.SentMailDays), now.AddDays(-r.MessageStatsDays), ct);
            return OperationsStore.Describe(result);
        }, cancellationToken);
}
