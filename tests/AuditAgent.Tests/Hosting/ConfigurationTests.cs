using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Tests.Hosting;

public class ConfigurationTests
{
    private static readonly string[] NobodyList = ["nobody@contoso.com"];

    private static string ExamplePath => AuditAgent.Tests.Support.RepoFiles.Path("appsettings.example.json");

    /// <summary>Every options class with a Section constant, found by reflection so that a new section cannot be forgotten.</summary>
    public static TheoryData<Type, string> Sections
    {
        get
        {
            var data = new TheoryData<Type, string>();
            foreach (var (section, type) in AuditAgent.Tests.Support.OptionSections.All)
            {
                data.Add(type, section);
            }

            return data;
        }
    }

    /// <summary>One bad value for every validated setting, and the words the refusal must contain.</summary>
    public static TheoryData<string, string, string> BadValues => new()
    {
        { "Graph:Cloud", "Mars", "'Mars' at 'Graph:Cloud'" },
        { "Graph:BaseUrl", "http://graph.example.com/v1.0", "Graph:BaseUrl must be an https URL" },
        { "Graph:PageSize", "0", "Graph:PageSize must be between 1 and 1000" },
        { "Graph:PageSize", "many", "Graph:PageSize" },
        { "Graph:MaxRetries", "11", "Graph:MaxRetries must be between 0 and 10" },
        { "Graph:RetryDelaySeconds", "-1", "Graph:RetryDelaySeconds must be between 0 and 180" },
        { "Graph:TimeoutSeconds", "0", "Graph:TimeoutSeconds must be between 1 and 600" },
        { "Graph:MaxRetryAfterSeconds", "0", "Graph:MaxRetryAfterSeconds must be between 1 and 3600" },
        { "Graph:MaxResponseMegabytes", "0", "Graph:MaxResponseMegabytes must be between 1 and 1024" },
        { "Detection:VisibleExternalThresold", "5", "Detection:VisibleExternalThresold is not a setting of Detection; did you mean Detection:VisibleExternalThreshold?" },
        { "Scan:IncludeMailbox", "a@b.com", "Scan:IncludeMailbox is not a setting of Scan; did you mean Scan:IncludeMailboxes?" },
        { "Notifications:Smtp:Hots", "smtp.contoso.com", "Notifications:Smtp:Hots is not a setting of Notifications:Smtp; did you mean Notifications:Smtp:Host?" },
        { "Incidents:ReExposureShare", "NaN", "Incidents:ReExposureShare must be a finite number (it is NaN)" },
        { "Graph:Credential", "Password", "Graph:Credential" },
        { "Graph:CertificateStoreLocation", "Elsewhere", "Graph:CertificateStoreLocation must be CurrentUser or LocalMachine" },
        { "Scan:LookbackDays", "0", "Scan:LookbackDays must be between 1 and 3650" },
        { "Scan:MaxParallelMailboxes", "1000", "Scan:MaxParallelMailboxes must be between 1 and 256" },
        { "Detection:VisibleExternalThreshold", "1", "Detection:VisibleExternalThreshold must be between 2 and 1000" },
        { "Storage:Provider", "Oracle", "'Oracle' at 'Storage:Provider'" },
        { "Storage:SqlitePath", "", "Storage:SqlitePath" },
        { "Storage:CommandTimeoutSeconds", "0", "Storage:CommandTimeoutSeconds must be between 1 and 3600" },
        { "Cluster:LeaseSeconds", "1", "Cluster:LeaseSeconds must be between 3 and 3600" },
        { "Cluster:PollSeconds", "0", "Cluster:PollSeconds must be between 1 and 600" },
        { "Incidents:MediumFrom", "0", "Incidents:MediumFrom must be at least 1" },
        { "Incidents:HighFrom", "5", "Incidents:HighFrom must be greater than Incidents:MediumFrom" },
        { "Incidents:PersonalShareToRaise", "1.5", "Incidents:PersonalShareToRaise must be above 0 and at most 1" },
        { "Incidents:ReExposureShare", "0", "Incidents:ReExposureShare must be above 0 and at most 1" },
        { "Incidents:GroupingWindowHours", "0", "Incidents:GroupingWindowHours must be between 1 and 336" },
        { "Incidents:ReExposureWindowDays", "400", "Incidents:ReExposureWindowDays must be between 1 and 365" },
        { "Incidents:RepeatSenderWindowDays", "0", "Incidents:RepeatSenderWindowDays must be between 1 and 3650" },
        { "Incidents:PlaybookFile", "/no/such/playbook.yaml", "Incidents:PlaybookFile" },
        { "Schedule:TimeZone", "Mars/Olympus", "Schedule:TimeZone 'Mars/Olympus' is not a known IANA time zone" },
        { "Schedule:ScanCron", "every hour", "Schedule:ScanCron 'every hour' is not a Quartz cron expression" },
        { "Schedule:DigestCron", "0 0 25 * * ?", "Schedule:DigestCron" },
        { "Retention:ClosedIncidentRecipientsDays", "0", "Retention:ClosedIncidentRecipientsDays must be between 1 and 3650" },
        { "Retention:BccMessageRecipientsDays", "0", "Retention:BccMessageRecipientsDays must be between 1 and 3650" },
        { "Retention:SentMailDays", "0", "Retention:SentMailDays must be between 1 and 3650" },
        { "Notifications:QuietHoursStart", "25:00", "Notifications:QuietHoursStart must be a time" },
        { "Notifications:Smtp:Port", "70000", "Notifications:Smtp:Port must be between 1 and 65535" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadValue_IsRefusedAtStartUp_NamingTheKey(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(ExamplePath)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Graph:ClientSecret"] = "secret",
                ["Notifications:Transport"] = key.StartsWith("Notifications:Smtp", StringComparison.Ordinal) ? "Smtp" : "Graph",
                ["Notifications:Smtp:Host"] = "smtp.contoso.com",
                ["Notifications:QuietHoursEnd"] = "07:00",
                // The store location only matters for a certificate found by thumbprint.
                ["Graph:Credential"] = key == "Graph:CertificateStoreLocation" ? "ClientCertificate" : "ClientSecret",
                ["Graph:CertificateThumbprint"] = key == "Graph:CertificateStoreLocation" ? "0123456789ABCDEF" : null,
                [key] = value,
            })
            .Build();
        using var services = new ServiceCollection().AddAuditAgent(configuration).BuildServiceProvider();

        var error = Assert.ThrowsAny<Exception>(() =>
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            _ = services.GetRequiredService<IOptions<AuditAgent.Notifications.NotificationOptions>>().Value;
        });

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Scan:IncludeMailboxes", "a@b.com", new[] { "a@b.com" })]
    [InlineData("Scan:ExcludeMailboxes", "a@b.com, c@d.com", new[] { "a@b.com", "c@d.com" })]
    [InlineData("Scan:InternalDomains", "fabrikam.com;adatum.com", new[] { "fabrikam.com", "adatum.com" })]
    public void ListSetting_GivenAsOneValue_IsSplitOnCommas(string key, string value, string[] expected)
    {
        // As AUDITAGENT__SCAN__INCLUDEMAILBOXES=a@b.com or "IncludeMailboxes": "a@b.com" arrives.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        using var services = new ServiceCollection().AddAuditAgent(configuration).BuildServiceProvider();

        var scan = services.GetRequiredService<IOptions<ScanOptions>>().Value;

        Assert.Equal(expected, key switch
        {
            "Scan:IncludeMailboxes" => scan.IncludeMailboxes,
            "Scan:ExcludeMailboxes" => scan.ExcludeMailboxes,
            _ => scan.InternalDomains,
        });
    }

    [Fact]
    public async Task ConfigFile_WithAJsonError_IsRefusedNamingTheFileLineAndPosition()
    {
        using var folder = new AuditAgent.Tests.Support.TempFolder();
        var file = Path.Combine(folder.Path, "bad.json");
        await File.WriteAllTextAsync(file, "{\n  \"Scan\": {\n    \"LookbackDays\": 30,,\n  }\n}\n");

        var (code, _, error) = await AuditAgent.Tests.Support.Commands.RunAsync("status", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains($"The configuration file '{file}' is not valid JSON at line 3, position", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListSetting_FromTheEnvironment_LimitsTheScan()
    {
        var t = new AuditAgent.Tests.Support.TenantBuilder();
        t.User("ann");
        t.User("bob");
        await using var simulator = await AuditAgent.Simulator.SimulatorServer.StartAsync(t.Tenant);
        using var folder = new AuditAgent.Tests.Support.TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = simulator.BaseUrl,
            ["Graph:AccessToken"] = simulator.Token,
            ["Storage:SqlitePath"] = Path.Combine(folder.Path, "agent.db"),
            ["Scan:IncludeMailboxes"] = "ann@contoso.com",
        };

        var (code, output, error) = await AuditAgent.Tests.Support.AgentProcess.RunAsync(settings, folder.Path, "scan");

        Assert.True(code == 0, error);
        Assert.Contains("Scan succeeded: 1 mailboxes", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_OfNoMailboxes_WarnsThatTheFilterOrDirectoryMayBeWrong()
    {
        var t = new AuditAgent.Tests.Support.TenantBuilder();
        t.User("ann");
        await using var simulator = await AuditAgent.Simulator.SimulatorServer.StartAsync(t.Tenant);
        using var folder = new AuditAgent.Tests.Support.TempFolder();
        var config = await folder.WriteSettingsAsync(new
        {
            Graph = new { simulator.BaseUrl, AccessToken = simulator.Token },
            Storage = new { SqlitePath = Path.Combine(folder.Path, "agent.db") },
            Scan = new { IncludeMailboxes = NobodyList },
        });

        var (code, output, _) = await AuditAgent.Tests.Support.Commands.RunAsync("scan", "--config", config);

        Assert.Equal(0, code);
        Assert.Contains("No mailbox was scanned", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public void Example_DocumentsEveryKeyOfEverySection(Type options, string section)
    {
        var example = new ConfigurationBuilder().AddJsonFile(ExamplePath).Build().GetSection(section);
        var documented = example.GetChildren().Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var keys = options.GetProperties().Where(p => p.CanWrite).Select(p => p.Name).ToList();

        Assert.Equal([], keys.Where(k => !documented.Contains(k)).ToList());
        Assert.Equal([], documented.Where(d => !keys.Contains(d, StringComparer.OrdinalIgnoreCase)).ToList());
    }

    [Fact]
    public void Example_WithCredentialsFilledIn_PassesValidation()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(ExamplePath)
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Graph:ClientSecret"] = "secret" })
            .Build();
        using var services = new ServiceCollection().AddAuditAgent(configuration).BuildServiceProvider();

        Assert.Equal(200, services.GetRequiredService<IOptions<GraphOptions>>().Value.PageSize);
        Assert.Equal(30, services.GetRequiredService<IOptions<ScanOptions>>().Value.LookbackDays);
        Assert.Equal(10, services.GetRequiredService<IOptions<DetectionOptions>>().Value.VisibleExternalThreshold);
        Assert.Equal("auditagent.db", services.GetRequiredService<IOptions<StorageOptions>>().Value.SqlitePath);
        Assert.Equal("auditagent@contoso.com", services.GetRequiredService<IOptions<AuditAgent.Notifications.NotificationOptions>>().Value.SenderMailbox);
        Assert.Equal(new TimeOnly(20, 0), services.GetRequiredService<IOptions<AuditAgent.Notifications.NotificationOptions>>().Value.QuietStart);
        Assert.Equal("0 0 8 * * ?", services.GetRequiredService<IOptions<ScheduleOptions>>().Value.DigestCron);
    }
}
