using System.Text.Json;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Cli;

/// <summary>The benchmark as the README runs it: the real executable, the simulator in its own process.</summary>
public class BenchTests
{
    [Fact]
    public async Task Bench_SmallTenant_AgentAndBaselineFindTheSameWithFewerRequests()
    {
        using var folder = new TempFolder();
        var json = Path.Combine(folder.Path, "bench.json");

        var (code, output, error) = await AgentProcess.RunAsync(new Dictionary<string, string?>(), folder.Path,
            "bench", "--mailboxes", "24", "--messages-per-mailbox", "30", "--latency-ms", "0", "--baseline-mailboxes", "6", "--json", json);

        Assert.True(code == 0, output + error);
        Assert.Contains("Findings: the agent and the baseline found the same exposures.", output, StringComparison.Ordinal);
        var result = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        var phases = result.GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(5, phases.Count);
        Assert.True(result.GetProperty("findingsEqual").GetBoolean());
        Assert.Equal(result.GetProperty("lowerBoundRequests").GetInt64(), phases[0].GetProperty("httpRequests").GetInt64());
        Assert.True(phases[1].GetProperty("requestsPerMailbox").GetDouble() < 0.2, "a quiet rescan costs a fraction of a request per mailbox");
        Assert.True(phases[3].GetProperty("requestsPerMailbox").GetDouble() > 1, "the baseline pages through everything");
        // The replay client sends exactly the agent's requests again: as many, and the same bytes come back.
        var replays = result.GetProperty("replays").EnumerateArray().ToList();
        Assert.Equal(2, replays.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(phases[i].GetProperty("httpRequests").GetInt64(), replays[i].GetProperty("httpRequests").GetInt64());
            Assert.Equal(phases[i].GetProperty("bytesReceived").GetInt64(), replays[i].GetProperty("bytesReceived").GetInt64());
        }

        Assert.True(result.GetProperty("firstScanToReplay").GetDouble() > 0);
        Assert.Contains("Against the replay client", output, StringComparison.Ordinal);
    }
}
