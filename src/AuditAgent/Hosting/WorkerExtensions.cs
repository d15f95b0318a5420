using AuditAgent.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuditAgent.Hosting;

/// <summary>
/// The worker: Quartz jobs on cron schedules read in one time zone. On PostgreSQL the schedule lives in
/// Quartz's clustered job store in the same database, so agents sharing it run each fire once, and a
/// <see cref="ClusterWorker"/> lets idle agents help with the scan cycle in progress.
/// </summary>
public static class WorkerExtensions
{
    public static IServiceCollection AddAuditAgentWorker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<Notifications.NotificationOptions>().ValidateOnStart();
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        var clustered = storage.Provider == StorageProvider.PostgreSql && !string.IsNullOrWhiteSpace(storage.ConnectionString);
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = "AuditAgent";
                o.InstanceId = AgentInstance.Current.Id;
            });
            if (clustered)
            {
                q.UsePersistentStore(store =>
                {
                    // The tables come from the agent's own migrations (Storage/Migrations/PostgreSql).
                    store.UsePostgres(Npgsql.NpgsqlFactory.Instance, storage.EffectiveConnectionString()!);
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = TimeSpan.FromSeconds(10);
                        c.CheckinMisfireThreshold = TimeSpan.FromSeconds(30);
                    });
                });
            }

            AddCronJob<ScanSentItemsJob>(q, JobNames.Scan, o => o.ScanCron);
            AddCronJob<SendDailyDigestJob>(q, JobNames.Digest, o => o.DigestCron);
            AddCronJob<EscalateIncidentsJob>(q, JobNames.Escalate, o => o.EscalationCron);
            AddCronJob<PurgeExpiredDataJob>(q, JobNames.Purge, o => o.PurgeCron);
            AddCronJob<SendApologiesJob>(q, JobNames.Apologies, o => o.ApologyCron);
        });
        // A stored trigger is kept as it is (a restart must not move a cluster's next fire); the
        // reconciler below reschedules only what the configuration changed.
        services.Configure<QuartzOptions>(o => o.Scheduling.IgnoreDuplicates = true);
        // On SIGTERM the scan's token is cancelled: pages already read are committed, the rest is read next time.
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddHostedService<ScheduleReconciler>();
        services.AddHostedService<Events.EventPushService>();
        if (clustered)
        {
            services.AddHostedService<ClusterWorker>();
        }

        return services;
    }

    private static void AddCronJob<TJob>(IQuartzBuilder q, string name, Func<ScheduleOptions, string> cron)
        where TJob : IJob
    {
        var key = new JobKey(name);
        // In a cluster, a job whose agent dies mid-run is run again by another agent (the outbox and the
        // scan's leases make a second run safe).
        q.AddJob<TJob>(j => j.WithIdentity(key).RequestRecovery());
        q.AddTrigger((sp, t) =>
        {
            var schedule = sp.GetRequiredService<IOptions<ScheduleOptions>>().Value;
            t.ForJob(key).WithIdentity(TriggerName(name)).WithCronSchedule(cron(schedule), c => Cron(c, schedule.Zone));
        });
    }

    internal static string TriggerName(string job) => job + "-trigger";

    /// <summary>Each job's cron expression from the configuration.</summary>
    internal static IEnumerable<(string Job, string Cron)> Schedules(ScheduleOptions schedule) =>
    [
        (JobNames.Scan, schedule.ScanCron),
        (JobNames.Digest, schedule.DigestCron),
        (JobNames.Escalate, schedule.EscalationCron),
        (JobNames.Purge, schedule.PurgeCron),
        (JobNames.Apologies, schedule.ApologyCron),
    ];

    internal static ITrigger CronTrigger(string job, string cron, TimeZoneInfo zone) =>
        TriggerBuilder.Create().ForJob(new JobKey(job)).WithIdentity(TriggerName(job)).WithCronSchedule(cron, c => Cron(c, zone)).Build();

    // A machine that slept through several fires runs the job once, then keeps the schedule.
    private static void Cron(CronScheduleBuilder c, TimeZoneInfo zone) =>
        c.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed);

    /// <summary>The next fire time of each job after <paramref name="now"/>, from the configured schedules.</summary>
    public static IReadOnlyList<(string Job, string Cron, DateTimeOffset? Next)> NextFireTimes(ScheduleOptions schedule, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Schedules(schedule).Select(j => (j.Job, j.Cron, new CronExpression(j.Cron, schedule.Zone).GetNextValidTimeAfter(now))).ToList();
    }
}
