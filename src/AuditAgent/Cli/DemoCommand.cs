using System.CommandLine;
using AuditAgent.Core.Scans;
using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>
/// The first thing a newcomer runs: a simulated tenant in-process, one scan into a fresh SQLite
/// file, the findings printed. Uses embedded defaults only, never appsettings.json, so it can never
/// reach a real tenant by accident.
/// </summary>
internal static class DemoCommand
{
    private const string DemoMarker = "demo";

    public static Command Create(Terminal terminal)
    {
        var tenant = new TenantArguments();
        var command = new Command("demo", "Scan a simulated tenant into a fresh SQLite database and show what AuditAgent finds.");
        tenant.AddTo(command);
        var serve = new Option<bool>("--serve") { Description = "Then serve the triage console on the demo database (sign in as a demo user of the simulated tenant) until Ctrl+C." };
        var urls = new Option<string>("--urls") { Description = "Where --serve listens.", DefaultValueFactory = _ => new Web.WebOptions().Urls };
        command.Options.Add(serve);
        command.Options.Add(urls);
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var now = TimeProvider.System.GetUtcNow();
            var (simTenant, generated) = tenant.Create(parse, now);
            // The demo grants the optional MailboxSettings.Read too, so rooms are recognised and skipped.
            var roles = new SimulatorOptions().Roles.Append("MailboxSettings.Read").ToList();
            await using var simulator = await SimulatorServer.StartAsync(simTenant, new SimulatorOptions { Roles = roles }, ct);
            var path = Path.GetFullPath(parse.GetValue(CommandLine.DbOption) ?? "auditagent-demo.db");
            await ReplaceDemoDatabaseAsync(path, ct);

            var overrides = new Dictionary<string, string?>
            {
                ["Graph:BaseUrl"] = simulator.BaseUrl,
                ["Graph:AccessToken"] = simulator.Token,
                ["Storage:SqlitePath"] = path,
            };
            var host = AppHost.Build(null, overrides, ScanCommand.LogLevelFor(parse, terminal), embeddedOnly: true);
            using var disposeHost = host;
            await terminal.Error.WriteLineAsync($"Simulated tenant at {simulator.BaseUrl} ({simTenant.Users.Count} users).");
            var (summary, incidentRun) = await ScanCommand.RunScanAsync(host.Services, terminal, ct);
            await host.Services.GetRequiredService<Database>().SetMetaAsync("created_by", DemoMarker, ct);

            var rows = await host.Services.GetRequiredService<FindingQueries>().ListAsync(ct);
            var times = host.Services.GetRequiredService<Formatting.DisplayTime>();
            FindingsCommand.PrintTable(terminal, rows, times);
            var incidents = await host.Services.GetRequiredService<IncidentQueries>().ListAsync(null, null, ct);
            IncidentsCommand.PrintTable(terminal, incidents, TimeProvider.System.GetUtcNow(), times);
            ScanCommand.PrintSummary(terminal, summary, incidentRun, path);
            if (generated is not null)
            {
                var lookback = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ScanOptions>>().Value.LookbackDays;
                var expected = generated.ExpectedFindings(lookback);
                var found = expected.Count(e => rows.Any(r => r.MailboxId == e.MailboxId && r.GraphMessageId == e.GraphMessageId));
                await terminal.Output.WriteLineAsync(
                    $"The simulated tenant holds {expected.Count} exposures in its mailboxes (shared and blocked ones included) within the {lookback}-day look-back; AuditAgent found {found} of them and {rows.Count - found} other findings.");
            }

            if (incidents.Count > 0)
            {
                await terminal.Output.WriteLineAsync($"Next: dotnet run --project src/AuditAgent -- incidents show {incidents[0].Id} --db {path}");
            }
            var code = summary.Outcome == ScanOutcome.Succeeded ? ExitCodes.Ok : ExitCodes.PartialScan;
            if (parse.GetValue(serve))
            {
                host.Dispose();
                await ServeAsync(terminal, simulator, overrides, parse.GetValue(urls)!, ct);
            }

            return code;
        }));
        return command;
    }

    /// <summary>
    /// The console on the demo database, signed in through the simulator's OpenID Connect pages: the same
    /// middleware and code that sign people in with Entra ID in production.
    /// </summary>
    private static async Task ServeAsync(Terminal terminal, SimulatorServer simulator, Dictionary<string, string?> overrides, string urls, CancellationToken ct)
    {
        overrides["Graph:TenantId"] = simulator.Tenant.TenantId;
        overrides["Web:Urls"] = urls;
        overrides["Web:Authority"] = simulator.Authority;
        overrides["Web:ClientId"] = "auditagent-demo-console";
        overrides["Web:ClientSecret"] = SignInProvider.ClientSecret;
        await using var app = AppHost.BuildWeb(null, overrides, Microsoft.Extensions.Logging.LogLevel.Warning, embeddedOnly: true);
        await app.StartAsync(ct);
        await Web.ConsoleStart.AnnounceAsync(app, terminal);
        await terminal.Output.WriteLineAsync($"The console is at {Web.ConsoleStart.Addresses(app)[0]}. Sign in as {string.Join(", ", simulator.SignIn.Users.Select(u => $"{u.Name} ({(u.Roles.Count == 0 ? "no role" : u.Roles[0]["AuditAgent.".Length..])})"))}. Ctrl+C stops it.");
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: the demo ends here.
        }

        await app.StopAsync(CancellationToken.None);
    }

    /// <summary>The demo starts from an empty database, but never deletes one it did not create.</summary>
    private static async Task ReplaceDemoDatabaseAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            return;
        }

        string? marker;
        try
        {
            marker = await Database.ReadMetaAsync(path, "created_by", ct);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            marker = null;
        }

        if (marker != DemoMarker)
        {
            throw new CliException($"{path} exists and was not created by the demo; pass another --db.");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }
    }
}
