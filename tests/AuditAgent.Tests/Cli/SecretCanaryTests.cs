using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Cli;

/// <summary>No secret ever reaches the output: the real executable, with verbose logs, run with canary secrets.</summary>
public class SecretCanaryTests
{
    [Fact]
    public async Task Commands_WithCanarySecrets_NeverPrintThem()
    {
        const string Secret = "CANARY-client-secret-7f3a";
        const string FileSecret = "CANARY-file-secret-91bc";
        const string SmtpPassword = "CANARY-smtp-password-44d0";
        using var folder = new TempFolder();
        var secretFile = Path.Combine(folder.Path, "secret");
        await File.WriteAllTextAsync(secretFile, FileSecret);
        var settings = new Dictionary<string, string?>
        {
            ["Graph:TenantId"] = "contoso.onmicrosoft.com",
            ["Graph:ClientId"] = "22222222-2222-2222-2222-222222222222",
            ["Graph:ClientSecret"] = Secret,
            ["Graph:MaxRetries"] = "0",
            ["Storage:SqlitePath"] = Path.Combine(folder.Path, "agent.db"),
            ["Notifications:Transport"] = "Smtp",
            ["Notifications:SenderMailbox"] = "auditagent@contoso.com",
            ["Notifications:Smtp:Host"] = "127.0.0.1",
            ["Notifications:Smtp:Port"] = "1",
            ["Notifications:Smtp:Username"] = "agent",
            ["Notifications:Smtp:Password"] = SmtpPassword,
        };
        var withFile = new Dictionary<string, string?>(settings) { ["Graph:ClientSecret"] = null, ["Graph:ClientSecretFile"] = secretFile };

        var runs = new List<(int, string, string)>
        {
            await AgentProcess.RunAsync(settings, folder.Path, "consent", "--verbose"),
            await AgentProcess.RunAsync(settings, folder.Path, "doctor", "--verbose"),
            await AgentProcess.RunAsync(settings, folder.Path, "scan", "--verbose"),
            await AgentProcess.RunAsync(withFile, folder.Path, "doctor", "--format", "json", "--verbose"),
            await AgentProcess.RunAsync(settings, folder.Path, "status", "--format", "json", "--verbose"),
            await AgentProcess.RunAsync(settings, folder.Path, "digest", "--preview", "--verbose"),
        };

        var everything = string.Join("\n", runs.Select(r => r.Item2 + r.Item3));
        Assert.Contains("FAIL  Token", everything, StringComparison.Ordinal);
        Assert.Contains("AuditAgent daily digest", everything, StringComparison.Ordinal);
        foreach (var canary in new[] { Secret, FileSecret, SmtpPassword })
        {
            Assert.DoesNotContain(canary, everything, StringComparison.Ordinal);
        }
    }
}
