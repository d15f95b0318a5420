using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuditAgent.Hosting;

/// <summary>
/// Keeps a stored schedule unless the configuration changed it. Quartz declares triggers at start-up;
/// replacing the one a cluster already shares would recompute its next fire from this agent's start
/// (an agent starting a moment after a due fire would push it to the next day, and one rejoining after
/// an outage would drop the misfire the others were about to run). So declared triggers are only added
/// when missing (<see cref="SchedulingOptions.IgnoreDuplicates"/>), and this service reschedules the
/// ones whose cron expression or time zone differs from the configuration.
/// </summary>
internal sealed class ScheduleReconciler(ISchedulerFactory schedulers, IOptions<ScheduleOptions> options, ILogger<ScheduleReconciler> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var schedule = options.Value;
        foreach (var (job, cron) in WorkerExtensions.Schedules(schedule))
        {
            var key = new TriggerKey(WorkerExtensions.TriggerName(job));
            var stored = await scheduler.GetTrigger(key, cancellationToken);
            // A missing trigger was just added from the declaration, with this configuration.
            if (stored is null || (stored is ICronTrigger current && current.CronExpressionString == cron && current.TimeZone.Id == schedule.Zone.Id))
            {
                continue;
            }

            logger.LogInformation("The schedule of {Job} changed to {Cron} ({TimeZone}); rescheduled", job, cron, schedule.Zone.Id);
            await scheduler.RescheduleJob(key, WorkerExtensions.CronTrigger(job, cron, schedule.Zone), cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
