using System.Text.Json;
using AuditAgent.Cli;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Hosting;

/// <summary>`doctor` against the simulator: each check's pass or failure line, and the exit code.</summary>
public class DoctorTests
{
    private static async Task<(int Code, string Output, string Error, JsonElement Json)> DoctorAsync(SimulatorOptions simulator, Action<SimTenant>? tenant = null, Dictionary<string, string?>? extra = null)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        t.Send(t.User("ann"), "Hello", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(2, TenantBuilder.Companies));
        tenant?.Invoke(t.Tenant);
        await using var agent = await AgentHarness.StartAsync(t.Tenant, simulator);
        // As after a first scan: doctor checks a database, it does not create one.
        await agent.Services.GetRequiredService<AuditAgent.Storage.Database>().MigrateAsync(CancellationToken.None);
        using var folder = new TempFolder();
        var settings = new Dictionary<string, object?>();
        foreach (var (k, v) in agent.Settings.Concat(new Dictionary<string, string?> { ["Notifications:SenderMailbox"] = "auditagent@contoso.com" }).Concat(extra ?? []))
        {
            var parts = k.Split(':');
            var node = settings;
            foreach (var part in parts[..^1])
            {
                node = (Dictionary<string, object?>)(node.TryGetValue(part, out var child) ? child! : node[part] = new Dictionary<string, object?>());
            }

            node[parts[^1]] = v;
        }

        var config = Path.Combine(folder.Path, "settings.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(settings));
        var text = await RunAsync("doctor", "--config", config);
        var json = await RunAsync("doctor", "--config", config, "--format", "json");
        Assert.DoesNotContain(agent.Simulator.Token, text.Output + text.Error + json.Output + json.Error, StringComparison.Ordinal);
        return (text.ExitCode, text.Output, text.Error, JsonDocument.Parse(json.Output).RootElement.Clone());
    }

    private static string Status(JsonElement json, string check) =>
        string.Join(",", json.EnumerateArray().Where(r => r.GetProperty("check").GetString() == check).Select(r => r.GetProperty("status").GetString()));

    [Fact]
    public async Task Doctor_WithTheNeededRoles_PassesEveryCheck()
    {
        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions());

        Assert.Equal(0, code);
        Assert.Contains("All checks passed.", output, StringComparison.Ordinal);
        foreach (var check in new[] { "Configuration", "Database", "Key ring", "Token", "Permissions", "Domains", "Users", "Mailbox", "Mail sender" })
        {
            Assert.Equal("pass", Status(json, check));
        }

        Assert.Contains("not checked: whether Graph accepts mail from it", output, StringComparison.Ordinal);
        Assert.Equal("skip", Status(json, "Time zones"));
        Assert.Contains("optional MailboxSettings.Read is not granted: rooms and equipment are scanned like people's mailboxes", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_WithAnApologyMailboxAndMailboxSettings_ChecksTheMailboxAndUsesRecipientsTimeZones()
    {
        var roles = new SimulatorOptions().Roles.Append("MailboxSettings.Read").ToList();
        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions { Roles = roles }, t => t.AddUser(new SimUser("id-apologies") { Mail = "apologies@contoso.com", UserPrincipalName = "apologies@contoso.com" }),
            new() { ["Notifications:Apology:Mailbox"] = "apologies@contoso.com" });
        var (_, missing, _, missingJson) = await DoctorAsync(new SimulatorOptions(), extra: new() { ["Notifications:Apology:Mailbox"] = "nobody@contoso.com" });

        Assert.Equal(0, code);
        Assert.Equal("pass", Status(json, "Apology sender"));
        Assert.Contains("apologies@contoso.com exists and Mail.Send is granted", output, StringComparison.Ordinal);
        Assert.Equal("pass", Status(json, "Time zones"));
        Assert.Equal("fail", Status(missingJson, "Apology sender"));
        Assert.Contains("set Notifications:Apology:Mailbox to an existing mailbox", missing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_KeyRingThatCannotOpenTheDatabase_FailsWithTheFix()
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Spring newsletter", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(12, TenantBuilder.Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAsync();
        using var folder = new TempFolder();
        var config = await folder.WriteSettingsAsync(new { Protection = new { Key = AuditAgent.Protection.KeyRing.NewKey() } });

        var (code, output, _) = await RunAsync("doctor", "--config", config, "--db", agent.DatabasePath);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("FAIL  Key ring:", output, StringComparison.Ordinal);
        Assert.Contains("cannot be read with the key ring from Protection:Key", output, StringComparison.Ordinal);
        Assert.Contains("fix: give this agent the key ring the database was sealed with", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_MissingRole_FailsWithTheFix()
    {
        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions { Roles = ["Mail.ReadBasic.All", "Domain.Read.All", "Mail.Send"] });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("FAIL  Permissions: missing: User.Read.All", output, StringComparison.Ordinal);
        Assert.Contains("fix: add them as application permissions and grant admin consent; `auditagent consent` prints the URL", output, StringComparison.Ordinal);
        Assert.Equal("fail", Status(json, "Users"));
        Assert.Contains("403 Authorization_RequestDenied", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_NoRolesAtAll_SaysConsentWasNotGranted()
    {
        var (code, output, _, _) = await DoctorAsync(new SimulatorOptions { Roles = [] });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("FAIL  Permissions: the token carries no application permissions: admin consent has not been granted", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_BroaderRoles_WarnButPass()
    {
        var (code, output, _, _) = await DoctorAsync(new SimulatorOptions { Roles = ["Mail.ReadBasic.All", "User.Read.All", "Domain.Read.All", "Mail.Send", "Mail.Read", "Directory.Read.All"] });

        Assert.Equal(0, code);
        Assert.Contains("WARN  Permissions: Mail.Read is granted but broader than needed: it reads message bodies and attachments", output, StringComparison.Ordinal);
        Assert.Contains("fix: remove Mail.Read from the app registration", output, StringComparison.Ordinal);
        Assert.Contains("WARN  Permissions: Directory.Read.All is granted but broader than needed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_MailboxOutsideTheExchangeScope_IsExplained()
    {
        var (code, output, _, _) = await DoctorAsync(new SimulatorOptions(), t => t.FindUser("ann@contoso.com")!.OutsideAppScope = true, new() { ["Scan:IncludeMailboxes:0"] = "ann@contoso.com" });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("FAIL  Mailbox: ann@contoso.com is outside the app's Exchange scope (RBAC for Applications or an application access policy): Graph answered 403 ErrorAccessDenied", output, StringComparison.Ordinal);
        Assert.Contains("fix: add the mailbox to the app's management scope", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_UnreachableDatabase_FailsThatCheckAndStillChecksGraph()
    {
        using var folder = new TempFolder();
        var blocker = Path.Combine(folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "");

        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions(), extra: new() { ["Storage:SqlitePath"] = Path.Combine(blocker, "agent.db") });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains($"FAIL  Database: {Path.Combine(blocker, "agent.db")}:", output, StringComparison.Ordinal);
        Assert.Contains("fix: check Storage:SqlitePath", output, StringComparison.Ordinal);
        Assert.Equal("pass", Status(json, "Domains"));
    }

    [Fact]
    public async Task Consent_PrintsTheUrlPermissionsAndScopingCommands()
    {
        using var folder = new TempFolder();
        var config = Path.Combine(folder.Path, "settings.json");
        await File.WriteAllTextAsync(config, """
            {"Graph":{"TenantId":"contoso.onmicrosoft.com","ClientId":"22222222-2222-2222-2222-222222222222","ClientSecret":"x"},
             "Notifications":{"Transport":"Graph","SenderMailbox":"auditagent@contoso.com"}}
            """);

        var (code, output, _) = await RunAsync("consent", "--config", config);

        Assert.Equal(0, code);
        Assert.Contains("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=22222222-2222-2222-2222-222222222222&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri=https%3A%2F%2Flocalhost&state=auditagent-consent", output, StringComparison.Ordinal);
        Assert.Contains("   Mail.ReadBasic.All   to read the sender, recipients", output, StringComparison.Ordinal);
        Assert.Contains("New-ManagementRoleAssignment -App 22222222-2222-2222-2222-222222222222 -Role \"Application Mail.ReadBasic\"", output, StringComparison.Ordinal);
        Assert.Contains("-RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'auditagent@contoso.com'\"", output, StringComparison.Ordinal);
        Assert.Contains("-Role \"Application Mail.Send\" -CustomResourceScope \"AuditAgent sender\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\n   Mail.Read ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_WithNoConfigurationInAnEmptyFolder_WritesNothing()
    {
        using var folder = new TempFolder();

        var (code, output, _) = await AgentProcess.RunAsync(new Dictionary<string, string?>(), folder.Path, "doctor");

        Assert.Equal(1, code);
        Assert.Contains("WARN  Database: no database at", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task Doctor_GraphUnreachable_SaysSoOnceWithANetworkFix()
    {
        // A port nothing listens on: connection refused.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions(), extra: new() { ["Graph:BaseUrl"] = $"http://127.0.0.1:{port}/v1.0" });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Equal("fail", Status(json, "Domains"));
        Assert.Contains("fix: check that this machine reaches 127.0.0.1 over HTTPS", output, StringComparison.Ordinal);
        Assert.DoesNotContain("grant Domain.Read.All", output, StringComparison.Ordinal);
        Assert.Equal("skip", Status(json, "Users"));
        Assert.Equal("skip", Status(json, "Mailbox"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "Connection refused"));
    }

    [Fact]
    public void Doctor_SignInAuthorityUnreachable_SaysTheCauseOnceWithANetworkFix()
    {
        // The shape Azure.Identity throws after its retries when DNS has no answer for the authority
        // (seen from `doctor` on this machine, which has no route to login.microsoftonline.com).
        const string cause = "Name or service not known (login.microsoftonline.com:443)";
        var attempts = Enumerable.Range(0, 6).Select(_ => new Azure.RequestFailedException(0, cause, new HttpRequestException(cause, new System.Net.Sockets.SocketException(11001)))).ToList();
        var retries = new AggregateException("Retry failed after 6 tries. Retry settings can be adjusted in ClientOptions.Retry or by configuring a custom retry policy in ClientOptions.RetryPolicy.", attempts);
        var failure = new Azure.Identity.AuthenticationFailedException($"ClientSecretCredential authentication failed: {retries.Message}", retries);

        var described = AuditAgent.Graph.GraphErrors.Describe(failure);
        var fix = AuditAgent.Hosting.Doctor.TokenFix(failure, new AuditAgent.Graph.GraphOptions());

        Assert.Equal($"Could not get a token: ClientSecretCredential authentication failed: Retry failed after 6 tries. ({cause})", described);
        Assert.Equal("check that this machine reaches login.microsoftonline.com over HTTPS (DNS, proxy, firewall)", fix);
    }

    [Fact]
    public void Doctor_SignInRefused_GetsTheFixOfItsCredential()
    {
        var refused = new Azure.Identity.AuthenticationFailedException("ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided.");

        Assert.Equal("Could not get a token: ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided.", AuditAgent.Graph.GraphErrors.Describe(refused));
        Assert.StartsWith("check Graph:TenantId, Graph:ClientId and the secret", AuditAgent.Hosting.Doctor.TokenFix(refused, new AuditAgent.Graph.GraphOptions()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_NeedsOnlyTheTenantAndTheApp()
    {
        using var folder = new TempFolder();
        using var other = new TempFolder();
        var config = await folder.WriteSettingsAsync(new { Graph = new { TenantId = "contoso.onmicrosoft.com", ClientId = "22222222-2222-2222-2222-222222222222" } });
        var missing = await other.WriteSettingsAsync(new { Graph = new { TenantId = "contoso.onmicrosoft.com" } });

        var (code, output, error) = await RunAsync("consent", "--config", config);
        var refused = await RunAsync("consent", "--config", missing);

        Assert.True(code == 0, error);
        Assert.Contains("adminconsent?client_id=22222222-2222-2222-2222-222222222222", output, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Graph:ClientId is required", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_ChecksEveryRegisteredSection_ClusterAndProtectionIncluded()
    {
        var (code, output, _, json) = await DoctorAsync(new SimulatorOptions(), extra: new() { ["Cluster:LeaseSeconds"] = "1", ["Protection:KeyFile"] = "/no/such/key", ["Protection:Key"] = "also-set" });

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Equal("fail", Status(json, "Configuration"));
        Assert.Contains("Cluster:LeaseSeconds must be between 3 and 3600", output, StringComparison.Ordinal);
        Assert.Contains("Protection:KeyFile, Protection:Key and Protection:KeyVaultUri are alternatives: set one of them.", output, StringComparison.Ordinal);
    }
}
