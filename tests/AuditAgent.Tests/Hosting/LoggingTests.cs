using System.Reflection;
using System.Text.Json;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Tests.Hosting;

/// <summary>Logs an operator can ship and alert on: JSON lines with stable EventIds, and the Logging section honoured.</summary>
public sealed class LoggingTests
{
    [Fact]
    public void EveryLogEvent_HasItsOwnEventId_AndIsListedInTheOperationsGuide()
    {
        var docs = File.ReadAllText(RepoFiles.Path("docs/operations.md"));
        var ids = typeof(AuditAgent.Hosting.LogEvents).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .Select(a => a.EventId)
            .ToList();

        Assert.True(ids.Count >= 25, $"{ids.Count} messages");
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Contains($"| {id} |", docs, StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonFormat_EachLineParses_WithUtcTimeEventIdAndFields_AndTheLoggingSectionSilencesACategory()
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(12, TenantBuilder.Companies));
        t.User("locked").OutsideAppScope = true;
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?>(agent.Settings) { ["Logging:Format"] = "json" };

        var (code, _, error) = await AgentProcess.RunAsync(settings, folder.Path, "scan", "-v");

        Assert.True(code is 0 or 3, error);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", l.GetProperty("Timestamp").GetString()));
        var failed = lines.Single(l => l.GetProperty("EventId").GetInt32() == 1003);
        Assert.Equal("Warning", failed.GetProperty("LogLevel").GetString());
        Assert.Equal("locked@contoso.com", failed.GetProperty("State").GetProperty("Mailbox").GetString());
        Assert.Contains(lines, l => l.GetProperty("EventId").GetInt32() == 1001);
        Assert.DoesNotContain("fabrikam.com", error, StringComparison.Ordinal); // never an exposed address

        settings["Logging:LogLevel:AuditAgent.Scanning.ScanService"] = "None";
        settings["Storage:SqlitePath"] = Path.Combine(folder.Path, "again.db"); // a fresh database: incidents are opened again
        var quiet = await AgentProcess.RunAsync(settings, folder.Path, "scan", "-v");
        Assert.DoesNotContain("\"EventId\":1003", quiet.Error, StringComparison.Ordinal);
        Assert.Contains("\"EventId\":2001", quiet.Error, StringComparison.Ordinal); // other categories still log

        settings["Logging:Format"] = "xml";
        var refused = await AgentProcess.RunAsync(settings, folder.Path, "status");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Logging:Format is 'xml'; use simple or json.", refused.Error, StringComparison.Ordinal);
    }
}
