using System.Text.Json;
using System.Text.RegularExpressions;
using AuditAgent.Cli;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Cli;

/// <summary>The commands as a user runs them: arguments in, text and exit code out.</summary>
public partial class CliTests
{
    [Fact]
    public async Task Demo_FindsEverySeededExposureAndListsThem()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "demo.db");

        var (code, output, error) = await RunAsync("demo", "--db", db, "--mailboxes", "40");

        Assert.True(code == 0, error);
        var match = DemoVerdict().Match(output);
        Assert.True(match.Success, output);
        Assert.True(int.Parse(match.Groups["held"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(match.Groups["held"].Value, match.Groups["found"].Value);
        Assert.Equal("0", match.Groups["other"].Value);
        Assert.Contains($"Database: {db}", output, StringComparison.Ordinal);
        Assert.Contains("Visible external", output, StringComparison.Ordinal);

        var (listCode, json, _) = await RunAsync("findings", "list", "--db", db, "--format", "json");
        Assert.Equal(0, listCode);
        var findings = JsonDocument.Parse(json).RootElement;
        Assert.Equal(int.Parse(match.Groups["found"].Value, System.Globalization.CultureInfo.InvariantCulture), findings.GetArrayLength());
        var first = findings[0];
        foreach (var field in new[] { "mailbox", "graphMessageId", "internetMessageId", "subject", "sentDateTime", "sender", "visibleExternalCount", "externalDomainCount", "bccCount" })
        {
            Assert.True(first.TryGetProperty(field, out _), $"missing {field}");
        }

        Assert.True(first.GetProperty("visibleExternalCount").GetInt32() >= 10);
        Assert.False(first.TryGetProperty("visibleExternalRecipients", out _));

        var withRecipients = JsonDocument.Parse((await RunAsync("findings", "list", "--db", db, "--format", "json", "--include-recipients")).Output).RootElement[0];
        Assert.Equal(first.GetProperty("visibleExternalCount").GetInt32(), withRecipients.GetProperty("visibleExternalRecipients").GetArrayLength());
        var csv = (await RunAsync("findings", "list", "--db", db, "--format", "csv")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Id,Mailbox,GraphMessageId,InternetMessageId,Subject,SentDateTime,Sender,VisibleExternalCount", csv[0], StringComparison.Ordinal);
        Assert.Equal(findings.GetArrayLength() + 1, csv.Length);
    }

    [Fact]
    public async Task Demo_RunTwice_ReplacesItsOwnDatabase()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "demo.db");

        var first = await RunAsync("demo", "--db", db, "--mailboxes", "12");
        var second = await RunAsync("demo", "--db", db, "--mailboxes", "12");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        // A replaced database holds one scan run; a reused one would hold two.
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=false");
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM scan_runs"));
    }

    [Fact]
    public async Task Demo_ExistingDatabaseItDidNotCreate_IsLeftAloneWithAClearError()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "precious.db");
        await File.WriteAllTextAsync(db, "not a demo database");

        var (code, output, error) = await RunAsync("demo", "--db", db);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("was not created by the demo", error, StringComparison.Ordinal);
        Assert.Equal("not a demo database", await File.ReadAllTextAsync(db));
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Demo_TenantFile_IsScanned()
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "tenant.json");
        var external = string.Join(",", Enumerable.Range(0, 11).Select(i => $$$"""{"emailAddress":{"name":"C {{{i}}}","address":"c{{{i}}}@fabrikam.com"}}"""));
        var sent = DateTimeOffset.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(file, $$$"""
            {"domains":[{"id":"contoso.com","isVerified":true}],
             "users":[{"id":"u1","mail":"ann@contoso.com","accountEnabled":true,"displayName":"Ann",
                       "sentItems":[{"id":"m1","subject":"Hello all","sentDateTime":"{{{sent}}}","receivedDateTime":"{{{sent}}}",
                                     "from":{"emailAddress":{"address":"ann@contoso.com"}},"toRecipients":[{{{external}}}]}]}]}
            """);

        var (code, output, error) = await RunAsync("demo", "--db", Path.Combine(folder.Path, "demo.db"), "--tenant-file", file);

        Assert.True(code == 0, error);
        Assert.Contains("Hello all", output, StringComparison.Ordinal);
        Assert.Contains("1 findings.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_WithoutGraphSettings_NamesTheMissingKeysAndExits2()
    {
        using var folder = new TempFolder();
        var config = Path.Combine(folder.Path, "settings.json");
        await File.WriteAllTextAsync(config, $$$"""{"Storage":{"SqlitePath":"{{{Path.Combine(folder.Path, "x.db")}}}"}}""");

        var (code, _, error) = await RunAsync("scan", "--config", config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("Graph:TenantId is required", error, StringComparison.Ordinal);
        Assert.Contains("AUDITAGENT__GRAPH__CLIENTID", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_BadValue_NamesTheKey()
    {
        using var folder = new TempFolder();
        var config = Path.Combine(folder.Path, "settings.json");
        await File.WriteAllTextAsync(config, """{"Graph":{"AccessToken":"x","BaseUrl":"http://example.com/v1.0","PageSize":5000},"Scan":{"LookbackDays":0}}""");

        var (code, _, error) = await RunAsync("scan", "--config", config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("Graph:PageSize must be between 1 and 1000", error, StringComparison.Ordinal);
        Assert.Contains("Graph:BaseUrl must be an https URL", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BadScheduleAndMailSettings_AreRefusedBeforeAnythingStarts()
    {
        using var folder = new TempFolder();
        var config = Path.Combine(folder.Path, "settings.json");
        await File.WriteAllTextAsync(config, $$$"""
            {"Graph":{"AccessToken":"x","BaseUrl":"http://127.0.0.1:1/v1.0"},
             "Storage":{"SqlitePath":"{{{Path.Combine(folder.Path, "a.db")}}}"},
             "Schedule":{"TimeZone":"Mars/Olympus","DigestCron":"every morning"},
             "Notifications":{"Transport":"Smtp","SenderMailbox":"a@contoso.com","QuietHoursStart":"22:00"}}
            """);

        var (code, _, error) = await RunAsync("run", "--config", config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("Schedule:TimeZone 'Mars/Olympus' is not a known IANA time zone", error, StringComparison.Ordinal);
        Assert.Contains("Schedule:DigestCron 'every morning' is not a Quartz cron expression", error, StringComparison.Ordinal);
        Assert.Contains("Notifications:Smtp:Host is required. Set it in appsettings.json or as the environment variable AUDITAGENT__NOTIFICATIONS__SMTP__HOST.", error, StringComparison.Ordinal);
        Assert.Contains("Notifications:QuietHoursStart and Notifications:QuietHoursEnd go together", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder.Path, "a.db")));
    }

    [Fact]
    public async Task DigestPreview_OnTheDemoDatabase_WritesTheDigestPageAndItsTextPart()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "demo.db");
        await RunAsync("demo", "--db", db, "--mailboxes", "20");
        var page = Path.Combine(folder.Path, "digest.html");

        var (code, output, error) = await RunAsync("digest", "--preview", "--out", page, "--db", db);

        Assert.True(code == 0, error);
        Assert.Contains("AuditAgent daily digest", output, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(page);
        Assert.Contains("Spring price list 2027", html, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"trend\"", html, StringComparison.Ordinal);
        Assert.Contains("New incidents:", await File.ReadAllTextAsync(Path.ChangeExtension(page, ".txt")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.eml"));
    }

    [Fact]
    public async Task Scan_MissingConfigFile_SaysSo()
    {
        var (code, _, error) = await RunAsync("scan", "--config", "/nonexistent/auditagent.json");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("/nonexistent/auditagent.json' does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindingsList_NoDatabase_SaysSo()
    {
        var (code, _, error) = await RunAsync("findings", "list", "--db", "/nonexistent/agent.db");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("No database at /nonexistent/agent.db", error, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"holds (?<held>\d+) exposures .* found (?<found>\d+) of them and (?<other>\d+) other findings")]
    private static partial Regex DemoVerdict();
}
