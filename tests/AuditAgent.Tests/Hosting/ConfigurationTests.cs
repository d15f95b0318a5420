using AuditAgent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Tests.Hosting;

public class ConfigurationTests
{
    private static string ExamplePath => AuditAgent.Tests.Support.RepoFiles.Path("appsettings.example.json");

    public static TheoryData<Type, string> Sections => new()
    {
        { typeof(GraphOptions), GraphOptions.Section },
        { typeof(ScanOptions), ScanOptions.Section },
        { typeof(DetectionOptions), DetectionOptions.Section },
        { typeof(StorageOptions), StorageOptions.Section },
        { typeof(AuditAgent.Incidents.IncidentOptions), AuditAgent.Incidents.IncidentOptions.Section },
        { typeof(ScheduleOptions), ScheduleOptions.Section },
        { typeof(AuditAgent.Notifications.NotificationOptions), AuditAgent.Notifications.NotificationOptions.Section },
        { typeof(AuditAgent.Notifications.SmtpOptions), AuditAgent.Notifications.NotificationOptions.Section + ":Smtp" },
        { typeof(RetentionOptions), RetentionOptions.Section },
    };

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
