using System.Globalization;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Breach;

/// <summary>An exported incident, checked offline: intact as exported in each format; one byte changed anywhere, it fails; a JSON export's timeline chains.</summary>
public sealed class EvidenceTests
{
    [Theory]
    [InlineData("md")]
    [InlineData("html")]
    [InlineData("json")]
    public async Task AnExport_VerifiesAsExported_AndFailsWithOneByteChanged(string format)
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id.ToString(CultureInfo.InvariantCulture);
        using var folder = new TempFolder();
        var db = agent.DatabasePath;
        await RunAsync("incidents", "ack", id, "--by", "sam@contoso.com", "--db", db);
        var file = Path.Combine(folder.Path, $"incident.{format}");
        Assert.Equal(0, (await RunAsync("incidents", "export", id, "--format", format, "--out", file, "--db", db)).ExitCode);

        var intact = await RunAsync("evidence", "verify", file, "--db", db);
        var text = await File.ReadAllTextAsync(file);
        var at = text.IndexOf("Acknowledged by sam", StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, text[..at] + "acknowledged by sam" + text[(at + "Acknowledged by sam".Length)..]);
        var altered = await RunAsync("evidence", "verify", file, "--db", db);

        Assert.True(intact.ExitCode == 0, intact.Output + intact.Error);
        Assert.Contains("intact, sealed by this agent's key ring", intact.Output, StringComparison.Ordinal);
        Assert.Equal(1, altered.ExitCode);
        Assert.Contains("NOT INTACT: the seal does not match", altered.Output, StringComparison.Ordinal);
        if (format == "json")
        {
            Assert.Contains("its timeline chains to its head", intact.Output, StringComparison.Ordinal);
        }
    }
}
