using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuditAgent.Hosting;

/// <summary>
/// An agent's membership of the cluster (PostgreSQL only): it checks in every Cluster:PollSeconds and,
/// when the scan cycle in progress has mailboxes nobody holds (just opened by the agent whose scan fired,
/// or returned by an agent that died), takes part in it. Quartz runs each fire on one agent; this is how
/// the others share the work.
/// </summary>
public sealed class ClusterWorker(
    ClusterStore cluster,
    ScanService scan,
    ScanPipeline pipeline,
    JobRunner runner,
    IOptions<ClusterOptions> options,
    TimeProvider time,
    ILogger<ClusterWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PollSeconds), time);
        do
        {
            try
            {
                await cluster.CheckInAsync(time.GetUtcNow(), stoppingToken);
                if (!scan.IsScanning && await cluster.FindClaimableAsync(time.GetUtcNow(), stoppingToken) is not null)
                {
                    await runner.RunAsync(JobNames.JoinScan, async ct =>
                    {
                        var outcome = await pipeline.JoinAsync(ct);
                        return outcome is null ? "this agent is already scanning" : ScanSentItemsJob.Describe(outcome);
                    }, stoppingToken);
                }
            }
            catch (JobExecutionException)
            {
                // Recorded in job_runs and logged by the runner; the next poll tries again.
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.CheckInFailed(ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await cluster.CheckOutAsync(time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.StopNotRecorded(ex.Message);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
