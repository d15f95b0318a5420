using System.Diagnostics;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Cli;

/// <summary>`status` and its probe when the agent that was scanning is gone.</summary>
public sealed class StatusCheckTests
{
    [Fact]
    public async Task Status_ScanRunningForAnAgentWhoseProcessIsGone_IsInterruptedAndUnhealthy()
    {
        var t = new TenantBuilder();
        t.User("ann");
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAsync();
        var deadPid = await ExitedProcessIdAsync();
        // What a SIGKILLed agent leaves behind: its scan still marked running, its last check-in a moment ago.
        await using (var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None))
        {
            var now = DateTimeOffset.UtcNow;
            await c.ExecuteAsync("UPDATE agent_instances SET stopped_at = @now", new { now });
            await c.ExecuteAsync("INSERT INTO agent_instances (id, host, pid, version, started_at, last_seen_at) VALUES (@id, @host, @pid, '1.0', @now, @now)",
                new { id = $"{Environment.MachineName}:{deadPid}", host = Environment.MachineName, pid = deadPid, now });
            await c.ExecuteAsync("INSERT INTO scan_runs (started_at, status) VALUES (@now, 'running')", new { now });
        }

        var status = await Commands.RunAsync("status", "--db", agent.DatabasePath);
        var check = await Commands.RunAsync("status", "--check", "--db", agent.DatabasePath);

        Assert.Contains("Last scan: interrupted", status.Output, StringComparison.Ordinal);
        Assert.Contains($"{Environment.MachineName}:{deadPid} (v1.0): gone", status.Output, StringComparison.Ordinal);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("no agent is alive to run it", check.Output, StringComparison.Ordinal);
    }

    private static async Task<int> ExitedProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.Id;
    }
}
