using AuditAgent.Hosting;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Hosting;

public class ScheduleTests
{
    [Theory]
    [InlineData("2026-11-28T05:00:00Z", "2026-11-28T07:00:00Z")] // Berlin is UTC+1 in winter
    [InlineData("2026-07-01T05:00:00Z", "2026-07-01T06:00:00Z")] // and UTC+2 in summer
    [InlineData("2026-07-01T06:00:01Z", "2026-07-02T06:00:00Z")]
    public void NextFireTimes_ReadTheCronInTheConfiguredZone(string now, string expectedDigest)
    {
        var schedule = new ScheduleOptions { TimeZone = "Europe/Berlin" };

        var next = WorkerExtensions.NextFireTimes(schedule, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)).ToDictionary(n => n.Job);

        Assert.Equal(DateTimeOffset.Parse(expectedDigest, System.Globalization.CultureInfo.InvariantCulture), next[JobNames.Digest].Next);
    }

    [Fact]
    public async Task Worker_MachineSleptThroughManyFires_RunsTheJobOnceThenKeepsTheSchedule()
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(12, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T10:01:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var host = WorkerHost.Build(agent.Settings, clock, WorkerHost.OnlyScan());
        await host.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
        await host.StartAsync();
        var scheduler = await host.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler(CancellationToken.None);

        clock.Advance(TimeSpan.FromHours(3)); // twelve fires missed while asleep

        var trigger = new Quartz.TriggerKey(JobNames.Scan + "-trigger");
        await WorkerHost.EventuallyAsync(async () =>
            (await scheduler.GetTrigger(trigger, CancellationToken.None))?.NextFireTimeUtc > clock.GetUtcNow() ? "caught up" : null);
        var runs = host.Services.GetRequiredService<OperationsStore>();
        var run = await WorkerHost.EventuallyAsync(async () => (await runs.LatestJobRunsAsync(CancellationToken.None)).FirstOrDefault(r => r.Status != "running"));
        var next = (await scheduler.GetTrigger(trigger, CancellationToken.None))!.NextFireTimeUtc;
        await host.StopAsync();

        await using var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None);
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM job_runs"));
        Assert.Equal("succeeded", run.Status);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T13:15:00Z", System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public async Task Worker_FakeClockReachesTheScheduledTime_RunsTheJobsThen()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Price list", Now.AddDays(-1), People(12, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-07-01T05:59:58Z", System.Globalization.CultureInfo.InvariantCulture));
        using var host = WorkerHost.Build(agent.Settings, clock, WorkerHost.OnlyScan("0 0 8 * * ?", "Europe/Berlin"));
        await host.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
        await host.StartAsync();
        var runs = host.Services.GetRequiredService<OperationsStore>();
        Assert.Empty(await runs.LatestJobRunsAsync(CancellationToken.None));

        clock.Advance(TimeSpan.FromSeconds(3));

        var scan = await WorkerHost.EventuallyAsync(async () =>
            (await runs.LatestJobRunsAsync(CancellationToken.None)).FirstOrDefault(r => r.Job == JobNames.Scan && r.Status != "running"));
        await host.StopAsync();
        Assert.Equal("succeeded", scan.Status);
        Assert.Equal(DateTimeOffset.Parse("2026-07-01T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture), scan.StartedAt, TimeSpan.FromSeconds(2));
        Assert.Contains("1 incidents opened", scan.Summary, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Worker_RestartingOnAClusteredSchedule_KeepsTheStoredNextFire_UnlessTheCronChanged()
    {
        var t = new TenantBuilder();
        t.User("ann");
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: Backend.PostgreSql);
        await agent.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
        var pending = DateTimeOffset.UtcNow.AddHours(1).UtcTicks;

        async Task<(long Next, string Cron)> StartAndStopAsync(string cron, long? setNext = null)
        {
            using var host = WorkerHost.Build(agent.Settings, TimeProvider.System, WorkerHost.OnlyScan(cron, "UTC"));
            await host.StartAsync();
            await using var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None);
            if (setNext is { } next)
            {
                // As if the cluster had a fire due at this moment, agreed by the agents already running.
                await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE qrtz_triggers SET next_fire_time = @next WHERE trigger_name = 'scan-sent-items-trigger'", new { next });
            }

            var stored = await Dapper.SqlMapper.QuerySingleAsync<(long, string)>(c, """
                SELECT t.next_fire_time, ct.cron_expression FROM qrtz_triggers t
                JOIN qrtz_cron_triggers ct ON ct.sched_name = t.sched_name AND ct.trigger_name = t.trigger_name AND ct.trigger_group = t.trigger_group
                WHERE t.trigger_name = 'scan-sent-items-trigger'
                """);
            await host.StopAsync();
            return stored;
        }

        await StartAndStopAsync("0 0 8 * * ?", setNext: pending);
        var restarted = await StartAndStopAsync("0 0 8 * * ?");
        var changed = await StartAndStopAsync("0 0 9 * * ?");

        Assert.Equal((pending, "0 0 8 * * ?"), restarted);
        Assert.Equal("0 0 9 * * ?", changed.Cron);
        Assert.Equal(9, new DateTimeOffset(changed.Next, TimeSpan.Zero).Hour);
    }
}
