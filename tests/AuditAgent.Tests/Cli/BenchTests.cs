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
        // The replay lists the directory first (domains and users), then reads the mailboxes, as any client must.
        Assert.All(replays, r => Assert.Matches(@"^\d+ requests: [1-9]\d* for the directory, then \d+ chains$", r.GetProperty("note").GetString()));
        // A fresh process compiles the scan's code during its first scan: the JIT's share is reported.
        Assert.True(phases[0].GetProperty("jitMethods").GetInt64() > 0);
        Assert.Contains("Against the replay client", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchLatency_WorkerOnItsSchedule_FindsEveryExposureAndEscalatesTheSevereOnes()
    {
        using var folder = new TempFolder();
        var json = Path.Combine(folder.Path, "latency.json");

        var (code, output, error) = await AgentProcess.RunAsync(new Dictionary<string, string?>(), folder.Path,
            "bench", "latency", "--mailboxes", "30", "--exposures", "6", "--minutes", "0.25", "--scan-cron", "0/5 * * * * ?", "--escalation-cron", "2/5 * * * * ?", "--json", json);

        Assert.True(code == 0, output + error);
        var result = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        Assert.Equal(6, result.GetProperty("injected").GetInt32());
        Assert.Equal(6, result.GetProperty("detected").GetInt32());
        Assert.Equal(6, result.GetProperty("detection").GetProperty("count").GetInt32());
        // Each high or critical incident gets its escalation mail (the default EscalateFromSeverity is high).
        var severe = result.GetProperty("bySeverity").EnumerateObject().Where(s => s.Name is "high" or "critical").Sum(s => s.Value.GetInt32());
        Assert.True(severe > 0);
        Assert.Equal(severe, result.GetProperty("escalation").GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("detection").GetProperty("p50").GetDouble() > 0);
        Assert.True(result.GetProperty("escalation").GetProperty("p50").GetDouble() >= result.GetProperty("detection").GetProperty("p50").GetDouble());
        Assert.True(result.GetProperty("scanCycles").GetInt64() >= 2);
        Assert.True(result.GetProperty("requestsPerMailboxPerHour").GetDouble() > 0);
        Assert.Contains("Sent to incident opened: p50", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchPages_ReadsEachMailboxsPageAndWorksIt_RoundAfterRound()
    {
        using var folder = new TempFolder();
        var json = Path.Combine(folder.Path, "pages.json");

        var (code, output, error) = await AgentProcess.RunAsync(new Dictionary<string, string?>(), folder.Path,
            "bench", "pages", "--mailboxes", "30", "--messages-per-mailbox", "40", "--rounds", "3", "--json", json);

        Assert.True(code == 0, output + error);
        var result = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        // The tenant's users with a mailbox, a page each; the generator seeds exposures and newsletters among them.
        Assert.InRange(result.GetProperty("pages").GetInt32(), 25, 31);
        Assert.True(result.GetProperty("messages").GetInt64() > result.GetProperty("pages").GetInt32(), "a page holds several messages");
        Assert.True(result.GetProperty("findings").GetInt32() > 0, output);
        var rounds = result.GetProperty("microsecondsPerMessage").EnumerateArray().Select(r => r.GetDouble()).ToList();
        Assert.Equal(3, rounds.Count);
        Assert.All(rounds, r => Assert.True(r > 0));
        Assert.Contains("us a message, median", output, StringComparison.Ordinal);
    }
}
