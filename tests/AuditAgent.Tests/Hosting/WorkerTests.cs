using System.Text.Json;
using AuditAgent.Hosting;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static AuditAgent.Tests.Support.Commands;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Hosting;

/// <summary>The agent run as a service: failures surface and recover, shutdown leaves consistent state.</summary>
public class WorkerTests
{
    [Fact]
    public async Task ScanJob_Failure_IsRecordedAndShownByStatus_AndTheNextFireRecovers()
    {
        var tenant = Tenant(mailboxes: 12, messages: 10, seed: 21);
        var outage = true;
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions
        {
            Interceptor = op => outage && op.Kind == "domains" ? new SimFault(500, "InternalServerError", "Graph is having a bad day.") : null,
        });
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T09:59:59Z", System.Globalization.CultureInfo.InvariantCulture));
        using var host = WorkerHost.Build(agent.Settings, clock, WorkerHost.OnlyScan());
        await host.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
        await host.StartAsync();
        var runs = host.Services.GetRequiredService<OperationsStore>();

        clock.Advance(TimeSpan.FromSeconds(2));
        var failed = await WorkerHost.EventuallyAsync(async () => (await runs.LatestJobRunsAsync(CancellationToken.None)).FirstOrDefault(r => r.Status == "failed"));
        var status = await RunAsync("status", "--format", "json", "--db", agent.DatabasePath);
        outage = false;
        clock.Advance(TimeSpan.FromMinutes(15));
        var recovered = await WorkerHost.EventuallyAsync(async () => (await runs.LatestJobRunsAsync(CancellationToken.None)).FirstOrDefault(r => r.Status == "succeeded"));
        await host.StopAsync();

        Assert.Equal(JobNames.Scan, failed.Job);
        Assert.Contains("Graph answered 500 InternalServerError", failed.Error, StringComparison.Ordinal);
        var job = JsonDocument.Parse(status.Output).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("job").GetString() == JobNames.Scan);
        Assert.Equal("failed", job.GetProperty("lastStatus").GetString());
        Assert.Contains("500", job.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T10:15:00Z", System.Globalization.CultureInfo.InvariantCulture), recovered.StartedAt, TimeSpan.FromSeconds(2));
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(await agent.FindingsAsync()));
    }

    [Fact]
    public async Task Shutdown_MidScan_CommitsWhatWasReadAndTheNextStartResumesWithoutLossOrDuplicates()
    {
        var tenant = Tenant(mailboxes: 30, messages: 40, seed: 5);
        var deltaRequests = 0;
        var midScan = new TaskCompletionSource();
        await using var agent = await AgentHarness.StartAsync(
            tenant.Tenant,
            new SimulatorOptions
            {
                Latency = TimeSpan.FromMilliseconds(5),
                Interceptor = op =>
                {
                    if (op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) == 60)
                    {
                        midScan.TrySetResult();
                    }

                    return null;
                },
            },
            new Dictionary<string, string?> { ["Graph:PageSize"] = "5", ["Scan:MaxParallelMailboxes"] = "4" });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using (var host = WorkerHost.Build(agent.Settings, clock, WorkerHost.OnlyScan()))
        {
            await host.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
            await host.StartAsync();
            clock.Advance(TimeSpan.FromMinutes(15));
            await midScan.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await host.StopAsync();
        }

        var interrupted = await agent.Services.GetRequiredService<OperationsStore>().LatestJobRunsAsync(CancellationToken.None);
        Assert.Equal("cancelled", Assert.Single(interrupted).Status);
        var partial = await agent.FindingsAsync();
        Assert.True(partial.Count < tenant.ExpectedFindings(30).Count, "the scan should have been stopped before it finished");
        Assert.Subset(Keys(tenant.ExpectedFindings(30)), Keys(partial));

        var resumed = await agent.ScanAsync();

        Assert.True(resumed.Messages > 0);
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }

    [Fact]
    public async Task StatusCheck_IsUnhealthyUntilAScanHasStartedRecently()
    {
        var tenant = Tenant(mailboxes: 6, messages: 5, seed: 2);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant);
        await agent.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);

        var before = await RunAsync("status", "--check", "--db", agent.DatabasePath);
        await agent.ScanAsync();
        var after = await RunAsync("status", "--check", "--db", agent.DatabasePath);

        Assert.Equal((1, "unhealthy: no scan started in the last 45 minutes (last: never)\n"), (before.ExitCode, before.Output));
        Assert.Equal(0, after.ExitCode);
        Assert.StartsWith("healthy: last scan started ", after.Output, StringComparison.Ordinal);
    }
}
