using System.Text.Json;
using AuditAgent.Formatting;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Commands;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Formatting;

/// <summary>People read local time, with the zone named; JSON stays UTC.</summary>
public sealed class DisplayTimeTests
{
    private static readonly DateTimeOffset Winter = new(2026, 11, 29, 17, 5, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Summer = new(2026, 7, 1, 17, 5, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Europe/Berlin", "2026-11-29 18:05 Europe/Berlin", "2026-07-01 19:05 Europe/Berlin")]
    [InlineData("America/New_York", "2026-11-29 12:05 America/New_York", "2026-07-01 13:05 America/New_York")]
    [InlineData("UTC", "2026-11-29 17:05 UTC", "2026-07-01 17:05 UTC")]
    public void Minute_IsTheLocalTimeWithTheZoneNamed(string zone, string winter, string summer)
    {
        var times = DisplayTime.In(zone);

        Assert.Equal((winter, summer), (times.Minute(Winter), times.Minute(Summer)));
    }

    [Fact]
    public async Task Cli_ShowsTimesInTheScheduleTimeZone_AndJsonStaysUtc()
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(12, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        using var folder = new TempFolder();
        var config = await folder.WriteSettingsAsync(new { Schedule = new { TimeZone = "Europe/Berlin" } });

        var table = await RunAsync("incidents", "list", "--config", config, "--db", agent.DatabasePath);
        var show = await RunAsync("incidents", "show", "1", "--config", config, "--db", agent.DatabasePath);
        var json = await RunAsync("incidents", "list", "--format", "json", "--config", config, "--db", agent.DatabasePath);
        var digest = await RunAsync("digest", "--preview", "--config", config, "--db", agent.DatabasePath);

        var detected = (await agent.IncidentsAsync()).Single().DetectedAt;
        var local = DisplayTime.In("Europe/Berlin");
        Assert.Contains("Detected (Europe/Berlin)", table.Output, StringComparison.Ordinal);
        Assert.Contains(local.Column(detected), table.Output, StringComparison.Ordinal);
        Assert.Contains($"Detected: {local.Minute(detected)} (awareness)", show.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(" UTC", show.Output, StringComparison.Ordinal);
        Assert.Equal(detected, JsonDocument.Parse(json.Output).RootElement[0].GetProperty("detectedAt").GetDateTimeOffset());
        Assert.EndsWith("+00:00", JsonDocument.Parse(json.Output).RootElement[0].GetProperty("detectedAt").GetString(), StringComparison.Ordinal);
        Assert.Contains("Europe/Berlin", digest.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(" UTC", digest.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Europe/Berlin", "2026-12-01T15:19:00Z", "Tuesday 1 December 2026, 16:19 Europe/Berlin (UTC+1)")]
    [InlineData("Europe/Berlin", "2026-07-01T15:19:00Z", "Wednesday 1 July 2026, 17:19 Europe/Berlin (UTC+2)")]
    [InlineData("Asia/Kolkata", "2026-12-01T15:19:00Z", "Tuesday 1 December 2026, 20:49 Asia/Kolkata (UTC+5:30)")]
    [InlineData("America/New_York", "2026-12-01T15:19:00Z", "Tuesday 1 December 2026, 10:19 America/New_York (UTC-5)")]
    [InlineData("UTC", "2026-12-01T15:19:00Z", "Tuesday 1 December 2026, 15:19 UTC")]
    public void InWords_NamesTheDayTheZoneAndItsOffsetThatDay(string zone, string utc, string expected) =>
        Assert.Equal(expected, DisplayTime.In(zone).InWords(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture)));
}
