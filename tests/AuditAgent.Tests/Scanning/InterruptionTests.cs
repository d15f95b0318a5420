using System.Diagnostics;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>
/// A scan stopped at any page (process killed, cancelled, or Graph failing) and then run again ends
/// with exactly the findings of an uninterrupted scan: nothing lost, nothing twice.
/// </summary>
public class InterruptionTests
{
    private static readonly Dictionary<string, string?> SmallPages = new() { ["Graph:PageSize"] = "5", ["Scan:MaxParallelMailboxes"] = "4" };

    [SkippableTheory]
    [InlineData(11, Backend.Sqlite)]
    [InlineData(97, Backend.Sqlite)]
    [InlineData(150, Backend.Sqlite)]
    [InlineData(97, Backend.PostgreSql)]
    public async Task Scan_ProcessKilledAtAPage_ResumesToTheUninterruptedResult(int killAtDeltaRequest, Backend backend)
    {
        var tenant = Tenant(mailboxes: 30, messages: 40, seed: killAtDeltaRequest);
        var deltaRequests = 0;
        Process? child = null;
        var killed = new TaskCompletionSource();
        SimFault? Intercept(SimOperation op)
        {
            if (op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) == killAtDeltaRequest)
            {
                child!.Kill(entireProcessTree: true);
                killed.TrySetResult();
                return new SimFault(500, "InternalServerError", "The agent was killed while this page was in flight.");
            }

            return null;
        }

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept }, SmallPages, backend: backend);
        using var folder = new TempFolder();
        child = AgentProcess.Start(agent.Settings, folder.Path, "scan");
        await child.WaitForExitAsync();
        Assert.True(killed.Task.IsCompleted, "the scan finished before the kill point");
        Assert.NotEqual(0, child.ExitCode);

        var resumed = await agent.ScanAsync();

        Assert.Equal("succeeded", resumed.Status);
        Assert.True(resumed.Messages > 0, "the resumed scan should have had work left");
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(150)]
    public async Task Scan_CancelledAtAPage_ResumesToTheUninterruptedResult(int cancelAtDeltaRequest)
    {
        var tenant = Tenant(mailboxes: 30, messages: 40, seed: cancelAtDeltaRequest);
        using var cancel = new CancellationTokenSource();
        var deltaRequests = 0;
        SimFault? Intercept(SimOperation op)
        {
            if (op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) == cancelAtDeltaRequest)
            {
                cancel.Cancel();
            }

            return null;
        }

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept }, SmallPages);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent.ScanAsync(cancel.Token));
        await agent.RestartAsync();

        var resumed = await agent.ScanAsync();

        var findings = await agent.FindingsAsync();
        Assert.True(resumed.Messages > 0);
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }

    [Fact]
    public async Task Scan_GraphFailingMidScan_MarksMailboxesFailedAndTheNextScanCompletes()
    {
        var tenant = Tenant(mailboxes: 30, messages: 40, seed: 3);
        var deltaRequests = 0;
        var outage = true;
        SimFault? Intercept(SimOperation op) =>
            outage && op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) > 40
                ? new SimFault(500, "InternalServerError", "Something went wrong.")
                : null;

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept }, SmallPages);
        var first = await agent.ScanAsync();
        Assert.NotEqual("succeeded", first.Status);
        Assert.NotEmpty(first.Failures);
        Assert.All(first.Failures, f => Assert.Contains("500", f.Reason, StringComparison.Ordinal));

        outage = false;
        var second = await agent.ScanAsync();

        Assert.Equal("succeeded", second.Status);
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }
}
