using System.Text.Json;
using AuditAgent.Graph;
using AuditAgent.Notifications;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Azure.Core;
using MailKit.Net.Smtp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;

namespace AuditAgent.Hosting;

public enum CheckStatus
{
    Pass,
    Warn,
    Fail,
    Skip,
}

/// <summary>One check of `doctor`: what was checked, the result, and for a failure how to fix it.</summary>
public sealed record CheckResult(string Check, CheckStatus Status, string Detail, string? Fix = null);

/// <summary>
/// Proves a set-up works, check by check: configuration, database, token, granted permissions,
/// directory, one mailbox, and the mail sender. Never prints a secret or a token.
/// </summary>
public sealed class Doctor(IServiceProvider services)
{
    private static readonly string[] GraphChecks = ["Token", "Permissions", "Domains", "Users", "Mailbox", "Mail sender"];

    public async Task<IReadOnlyList<CheckResult>> RunAsync(string? mailbox, CancellationToken ct)
    {
        var results = new List<CheckResult>();
        var configured = CheckConfiguration(results);
        if (await CheckDatabaseAsync(results, ct))
        {
            await CheckKeyRingAsync(results, ct);
        }
        else
        {
            results.Add(new CheckResult("Key ring", CheckStatus.Skip, "not checked: no database to open"));
        }

        if (!configured.Graph)
        {
            foreach (var check in GraphChecks)
            {
                results.Add(new CheckResult(check, CheckStatus.Skip, "not checked: the Graph configuration is not valid"));
            }

            return results;
        }

        var graphOptions = services.GetRequiredService<IOptions<GraphOptions>>().Value;
        var token = await CheckTokenAsync(results, graphOptions, ct);
        var apologyMailbox = services.GetRequiredService<IOptions<ApologyOptions>>().Value.Mailbox is { Length: > 0 } a ? a : null;
        var roles = token is null ? null : CheckRoles(results, token, configured.Mail?.Transport == MailTransportKind.Graph || apologyMailbox is not null);
        if (token is null)
        {
            results.Add(new CheckResult("Permissions", CheckStatus.Skip, "not checked: no token"));
        }

        var graph = services.GetRequiredService<GraphServiceClient>();
        if (token is null)
        {
            foreach (var check in GraphChecks[2..5])
            {
                results.Add(new CheckResult(check, CheckStatus.Skip, "not checked: no token"));
            }

            if (configured.Mail?.Transport == MailTransportKind.Graph)
            {
                results.Add(new CheckResult("Mail sender", CheckStatus.Skip, "not checked: no token"));
            }
            else
            {
                await CheckSenderAsync(results, graph, configured.Mail, roles, ct);
            }

            return results;
        }

        // One attempt each: a check should answer in seconds, not wait through the scan's patient retries.
        var directory = new GraphDirectory(graph, Options.Create(new GraphOptions { MaxRetries = 0, RetryDelaySeconds = 0 }), TimeProvider.System);
        await Probe(results, "Domains", async () =>
        {
            var domains = await directory.GetVerifiedDomainsAsync(ct);
            return $"{domains.Count} verified domains: {string.Join(", ", domains.Take(8))}";
        }, "grant Domain.Read.All and admin consent (auditagent consent)");

        List<Mailbox> mailboxes = [];
        await Probe(results, "Users", async () =>
        {
            var all = await directory.GetMailboxesAsync(ct);
            mailboxes = Scanning.ScanService.Select(all, services.GetRequiredService<IOptions<ScanOptions>>().Value);
            var blocked = all.Count(m => !m.AccountEnabled);
            return $"{all.Count} users with a mail address ({blocked} with sign-in blocked: shared mailboxes, rooms, leavers; scanned too), {mailboxes.Count} of them in scope";
        }, "grant User.Read.All and admin consent (auditagent consent)");

        var target = mailbox is null
            ? (mailboxes.Count > 0 ? mailboxes[0] : null)
            : mailboxes.FirstOrDefault(m => m.Address.Equals(mailbox, StringComparison.OrdinalIgnoreCase) || m.Id == mailbox) ?? new Mailbox(mailbox, mailbox, null);
        if (target is null)
        {
            results.Add(new CheckResult("Mailbox", CheckStatus.Skip, "not checked: no mailbox to read"));
        }
        else
        {
            await CheckMailboxAsync(results, graph, target, ct);
        }

        await CheckSenderAsync(results, graph, configured.Mail, roles, ct);
        if (apologyMailbox is not null)
        {
            await Probe(results, "Apology sender", async () =>
            {
                var user = await graph.Users[apologyMailbox].GetAsync(rc => rc.QueryParameters.Select = ["id", "mail"], ct);
                return $"{user?.Mail ?? apologyMailbox} exists and Mail.Send is {(roles?.Contains("Mail.Send") == true ? "granted" : "NOT granted")}; not checked: whether Graph accepts mail from it, which cannot be tried without sending a message";
            }, "set Notifications:Apology:Mailbox to an existing mailbox");
        }

        results.Add(roles?.Contains(Permissions.MailboxSettingsRead.Name) == true
            ? new CheckResult("Time zones", CheckStatus.Pass, "MailboxSettings.Read is granted: rooms and equipment are recognised and not scanned, and mail gives times in each recipient's own time zone")
            : new CheckResult("Time zones", CheckStatus.Skip, "optional MailboxSettings.Read is not granted: rooms and equipment are scanned like people's mailboxes, and mail gives times in Schedule:TimeZone", "grant MailboxSettings.Read to skip rooms and equipment and use each recipient's own time zone"));
        return results;
    }

    private (bool Graph, NotificationOptions? Mail) CheckConfiguration(List<CheckResult> results)
    {
        var errors = new List<string>();
        var graphValid = true;
        // Every section the agent registered, so a new one is checked without anyone remembering to.
        foreach (var section in services.GetServices<OptionsSection>())
        {
            var optionsType = typeof(IOptions<>).MakeGenericType(section.OptionsType);
            try
            {
                _ = optionsType.GetProperty(nameof(IOptions<object>.Value))!.GetValue(services.GetRequiredService(optionsType));
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is OptionsValidationException invalid)
            {
                errors.AddRange(invalid.Failures);
                graphValid &= section.OptionsType != typeof(GraphOptions);
            }
        }

        NotificationOptions? mail = null;
        try
        {
            mail = services.GetRequiredService<IOptions<NotificationOptions>>().Value;
        }
        catch (OptionsValidationException)
        {
        }

        results.Add(errors.Count == 0
            ? new CheckResult("Configuration", CheckStatus.Pass, "every section is valid")
            : new CheckResult("Configuration", CheckStatus.Fail, string.Join(" ", errors), "set the keys named above; appsettings.example.json documents each"));
        return (graphValid, mail);
    }

    private async Task<bool> CheckDatabaseAsync(List<CheckResult> results, CancellationToken ct)
    {
        Database database;
        try
        {
            database = services.GetRequiredService<Database>();
        }
        catch (OptionsValidationException)
        {
            results.Add(new CheckResult("Database", CheckStatus.Skip, "not checked: the Storage configuration is not valid"));
            return false;
        }

        // A check writes nothing: a SQLite file that does not exist yet is not created here.
        if (!database.IsPostgreSql && !File.Exists(database.Path))
        {
            var folder = Path.GetDirectoryName(database.Path)!;
            results.Add(File.Exists(folder)
                ? new CheckResult("Database", CheckStatus.Fail, $"{database.Path}: {folder} is a file, not a folder", "check Storage:SqlitePath: its folder must exist (or be creatable) and be writable by the agent's user")
                : new CheckResult("Database", CheckStatus.Warn, $"no database at {database.Path} yet: the first scan creates it (readable by its owner only)"
                    + (Directory.Exists(folder) ? "" : $", and its folder {folder}"), "run `auditagent scan`, or check Storage:SqlitePath if a database should be there"));
            return false;
        }

        try
        {
            await database.MigrateAsync(ct);
            if (await database.IntegrityProblemAsync(ct) is { } problem)
            {
                results.Add(new CheckResult("Database", CheckStatus.Fail, $"{database.Path} is corrupt: {problem}",
                    database.IsPostgreSql ? "restore the database from a backup" : "stop the agent, then restore the file from a backup (or try `sqlite3 FILE .recover`)"));
                return false;
            }

            if (database.PermissionProblem() is { } exposed)
            {
                results.Add(new CheckResult("Database", CheckStatus.Fail, exposed, $"chmod 600 {database.Path}"));
                return true;
            }

            results.Add(new CheckResult("Database", CheckStatus.Pass, $"{database.Path} is reachable, migrated and intact"));
            return true;
        }
        catch (DatabaseTooNewException ex)
        {
            results.Add(new CheckResult("Database", CheckStatus.Fail, $"{database.Path}: {ex.Message}", "run the AuditAgent version that wrote this database"));
            return false;
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
        {
            // SQLITE_CORRUPT, SQLITE_NOTADB: the file cannot even be migrated.
            results.Add(new CheckResult("Database", CheckStatus.Fail, $"{database.Path} is corrupt: {ex.Message}",
                "stop the agent, then restore the file from a backup (or try `sqlite3 FILE .recover`)"));
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            results.Add(new CheckResult("Database", CheckStatus.Fail, $"{database.Path}: {ex.Message}",
                "check Storage:SqlitePath: its folder must exist (or be creatable) and be writable by the agent's user"));
            return false;
        }
    }

    /// <summary>The key ring loads and opens what this database holds (an agent given another ring would fail every scan).</summary>
    private async Task CheckKeyRingAsync(List<CheckResult> results, CancellationToken ct)
    {
        const string Fix = "give this agent the key ring the database was sealed with (Protection:KeyFile, Protection:Key or Protection:KeyVaultUri; SECURITY.md)";
        var protector = services.GetRequiredService<Protection.RecipientProtector>();
        try
        {
            var report = await protector.ReportAsync(ct);
            results.Add(report.Missing.Count > 0
                ? new CheckResult("Key ring", CheckStatus.Fail, $"{report.Missing.Sum(k => report.SealedBy[k])} stored values are sealed with keys not in the ring: {string.Join(", ", report.Missing)}", Fix)
                : new CheckResult("Key ring", CheckStatus.Pass,
                    $"{report.Ring.Ids.Count} key(s) from {protector.Source}, current {report.Ring.CurrentId}; opens all {report.SealedBy.Values.Sum()} stored values"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            results.Add(new CheckResult("Key ring", CheckStatus.Fail, ex.Message, Fix));
        }
    }

    private static async Task<string?> CheckTokenAsync(List<CheckResult> results, GraphOptions o, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(o.AccessToken))
        {
            results.Add(new CheckResult("Token", CheckStatus.Pass, "a fixed access token is configured (Graph:AccessToken, for the tenant simulator)"));
            return o.AccessToken;
        }

        var scope = CloudEndpoints.For(o.Cloud).Scope;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            // One retry: a check should answer in seconds (the scan keeps Graph:MaxRetries).
            var token = await CredentialFactory.Create(o, retries: 1).GetTokenAsync(new TokenRequestContext([scope]), timeout.Token);
            results.Add(new CheckResult("Token", CheckStatus.Pass, $"{o.Credential} credential got a token for {scope}, valid until {token.ExpiresOn.UtcDateTime:yyyy-MM-dd HH:mm} UTC"));
            return token.Token;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            results.Add(new CheckResult("Token", CheckStatus.Fail, GraphErrors.Describe(ex), TokenFix(ex, o)));
            return null;
        }
    }

    /// <summary>A network failure gets a network fix; a refused sign-in the fix of its credential.</summary>
    internal static string TokenFix(Exception ex, GraphOptions o) => IsNetworkFailure(ex)
        ? $"check that this machine reaches {CloudEndpoints.For(o.Cloud).AuthorityHost.Host} over HTTPS (DNS, proxy, firewall)"
        : o.Credential switch
        {
            CredentialKind.ClientSecret => "check Graph:TenantId, Graph:ClientId and the secret (it may have expired: create a new one in the app registration)",
            CredentialKind.ClientCertificate => "check Graph:TenantId, Graph:ClientId and that the certificate's public key is uploaded to the app registration",
            CredentialKind.ManagedIdentity => "run the agent on an Azure resource with a managed identity; for a user-assigned one set Graph:ManagedIdentityClientId",
            _ => "check the service account's azure.workload.identity/client-id annotation and the federated credential on the app registration",
        };

    /// <summary>Reads the token's roles claim: the application permissions actually granted.</summary>
    private static HashSet<string>? CheckRoles(List<CheckResult> results, string token, bool needsSend)
    {
        HashSet<string> roles;
        try
        {
            var payload = token.Split('.')[1];
            using var json = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(payload));
            roles = json.RootElement.TryGetProperty("roles", out var r) && r.ValueKind == JsonValueKind.Array
                ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet(StringComparer.OrdinalIgnoreCase)
                : [];
        }
        catch (Exception ex) when (ex is FormatException or JsonException or IndexOutOfRangeException)
        {
            results.Add(new CheckResult("Permissions", CheckStatus.Warn, "the token is not a JWT, so the granted permissions cannot be read from it"));
            return null;
        }

        var missing = Permissions.Required(needsSend).Where(p => !roles.Contains(p.Name)).ToList();
        results.Add(missing.Count == 0
            ? new CheckResult("Permissions", CheckStatus.Pass, $"granted: {string.Join(", ", roles.Order(StringComparer.Ordinal))}")
            : new CheckResult("Permissions", CheckStatus.Fail,
                roles.Count == 0 ? "the token carries no application permissions: admin consent has not been granted" : $"missing: {string.Join(", ", missing.Select(m => m.Name))}",
                "add them as application permissions and grant admin consent; `auditagent consent` prints the URL"));
        foreach (var role in roles.Where(Permissions.Broader.ContainsKey).Order(StringComparer.Ordinal))
        {
            results.Add(new CheckResult("Permissions", CheckStatus.Warn, $"{role} is granted but broader than needed: it {Permissions.Broader[role]}", $"remove {role} from the app registration"));
        }

        if (!needsSend && roles.Contains("Mail.Send"))
        {
            results.Add(new CheckResult("Permissions", CheckStatus.Warn, "Mail.Send is granted but not used (Notifications:Transport is not Graph)", "remove Mail.Send from the app registration"));
        }

        return roles;
    }

    private async Task CheckMailboxAsync(List<CheckResult> results, GraphServiceClient graph, Mailbox mailbox, CancellationToken ct)
    {
        if (_unreachable is not null)
        {
            results.Add(new CheckResult("Mailbox", CheckStatus.Skip, $"not checked: Graph is unreachable (see {_unreachable})"));
            return;
        }

        try
        {
            await graph.Users[mailbox.Id].MailFolders["sentitems"].Messages.GetAsync(
                rc =>
                {
                    rc.QueryParameters.Top = 1;
                    rc.QueryParameters.Select = ["id"];
                },
                ct);
            results.Add(new CheckResult("Mailbox", CheckStatus.Pass, $"Sent Items of {mailbox.Address} are readable"));
        }
        catch (ODataError e) when (e.ResponseStatusCode == 403 && e.Error?.Code == "ErrorAccessDenied" && e.Error.Message?.Contains("OData is disabled", StringComparison.OrdinalIgnoreCase) == true)
        {
            results.Add(new CheckResult("Mailbox", CheckStatus.Fail,
                $"{mailbox.Address} is outside the app's Exchange scope (RBAC for Applications or an application access policy): Graph answered 403 ErrorAccessDenied: {e.Error?.Message}",
                "add the mailbox to the app's management scope (auditagent consent shows the commands), or leave it out with Scan:ExcludeMailboxes"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            results.Add(new CheckResult("Mailbox", CheckStatus.Fail, $"{mailbox.Address}: {GraphErrors.Describe(ex)}", "grant Mail.ReadBasic.All and admin consent"));
        }
    }

    private async Task CheckSenderAsync(List<CheckResult> results, GraphServiceClient graph, NotificationOptions? mail, HashSet<string>? roles, CancellationToken ct)
    {
        if (mail is null)
        {
            results.Add(new CheckResult("Mail sender", CheckStatus.Skip, "not checked: the Notifications configuration is not valid"));
            return;
        }

        switch (mail.Transport)
        {
            case MailTransportKind.Graph:
                if (roles is not null && !roles.Contains("Mail.Send"))
                {
                    results.Add(new CheckResult("Mail sender", CheckStatus.Fail, "Mail.Send is not granted, so the digest cannot be sent through Graph",
                        "grant Mail.Send (scoped to the sender mailbox) or set Notifications:Transport to Smtp"));
                    return;
                }

                await Probe(results, "Mail sender", async () =>
                {
                    var user = await graph.Users[mail.SenderMailbox].GetAsync(rc => rc.QueryParameters.Select = ["id", "mail"], ct);
                    return $"{user?.Mail ?? mail.SenderMailbox} exists and Mail.Send is granted; not checked: whether Graph accepts mail from it, which cannot be tried without sending a message";
                }, "set Notifications:SenderMailbox to an existing mailbox");
                break;
            case MailTransportKind.Smtp:
                await Probe(results, "Mail sender", async () =>
                {
                    using var smtp = new SmtpClient();
                    await smtp.ConnectAsync(mail.Smtp.Host ?? "", mail.Smtp.Port, MailKit.Security.SecureSocketOptions.Auto, ct);
                    if (!string.IsNullOrEmpty(mail.Smtp.Username))
                    {
                        await smtp.AuthenticateAsync(mail.Smtp.Username, mail.Smtp.Password ?? "", ct);
                    }

                    await smtp.DisconnectAsync(true, ct);
                    return $"SMTP server {mail.Smtp.Host}:{mail.Smtp.Port} accepts the connection{(string.IsNullOrEmpty(mail.Smtp.Username) ? "" : " and the login")}; nothing was sent";
                }, "check Notifications:Smtp (host, port, security, credentials)");
                break;
            default:
                if (!Directory.Exists(mail.OutputFolder))
                {
                    results.Add(new CheckResult("Mail sender", CheckStatus.Warn,
                        $"no transport: messages will be written to {Path.GetFullPath(mail.OutputFolder!)}, which does not exist yet (the first message creates it)",
                        "create it, or check Notifications:OutputFolder"));
                    break;
                }

                await Probe(results, "Mail sender", () =>
                {
                    var probe = Path.Combine(mail.OutputFolder!, ".auditagent-doctor");
                    File.WriteAllText(probe, "");
                    File.Delete(probe);
                    return Task.FromResult($"no transport: messages are written to {Path.GetFullPath(mail.OutputFolder!)}, which is writable");
                }, "make Notifications:OutputFolder writable");
                break;
        }
    }

    /// <summary>Set by the first check that could not reach Graph at all; the checks after it are skipped, not failed again.</summary>
    private string? _unreachable;

    private async Task Probe(List<CheckResult> results, string check, Func<Task<string>> probe, string fix)
    {
        if (_unreachable is not null)
        {
            results.Add(new CheckResult(check, CheckStatus.Skip, $"not checked: Graph is unreachable (see {_unreachable})"));
            return;
        }

        try
        {
            results.Add(new CheckResult(check, CheckStatus.Pass, await probe()));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (IsNetworkFailure(ex))
            {
                // Connection refused, no DNS answer, no answer in time: a network problem has a network fix, not a permission.
                _unreachable = check;
                var graph = services.GetRequiredService<IOptions<GraphOptions>>().Value;
                var host = new Uri(graph.BaseUrl is { Length: > 0 } url ? url : CloudEndpoints.For(graph.Cloud).GraphBaseUrl).Host;
                fix = $"check that this machine reaches {host} over HTTPS (DNS, proxy, firewall, Graph:BaseUrl)";
            }

            results.Add(new CheckResult(check, CheckStatus.Fail, GraphErrors.Describe(ex), fix));
        }
    }

    private static bool IsNetworkFailure(Exception ex) =>
        ex is HttpRequestException { StatusCode: null } or GraphTimeoutException or System.Net.Sockets.SocketException
        || (ex.InnerException is { } inner && IsNetworkFailure(inner));
}
