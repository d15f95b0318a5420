using System.CommandLine;
using AuditAgent.Hosting;
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
        var db = new Option<string>("--db") { Description = "The demo's SQLite database, replaced on every run.", DefaultValueFactory = _ => "auditagent-demo.db" };
        var command = new Command("demo", "Scan a simulated tenant into a fresh SQLite database and show what AuditAgent finds.");
        tenant.AddTo(command);
        command.Options.Add(db);
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var now = TimeProvider.System.GetUtcNow();
            var (simTenant, generated) = tenant.Create(parse, now);
            await using var simulator = await SimulatorServer.StartAsync(simTenant, new SimulatorOptions(), ct);
            var path = Path.GetFullPath(parse.GetValue(db)!);
            await ReplaceDemoDatabaseAsync(path, ct);

            var overrides = new Dictionary<string, string?>
            {
                ["Graph:BaseUrl"] = simulator.BaseUrl,
                ["Graph:AccessToken"] = simulator.Token,
                ["Storage:SqlitePath"] = path,
            };
            using var host = AppHost.Build(null, overrides, ScanCommand.LogLevelFor(parse, terminal), embeddedOnly: true);
            await terminal.Error.WriteLineAsync($"Simulated tenant at {simulator.BaseUrl} ({simTenant.Users.Count} users).");
            var summary = await ScanCommand.RunScanAsync(host.Services, terminal, ct);
            await host.Services.GetRequiredService<Database>().SetMetaAsync("created_by", DemoMarker, ct);

            var rows = await host.Services.GetRequiredService<FindingQueries>().ListAsync(ct);
            FindingsCommand.PrintTable(terminal, rows);
            ScanCommand.PrintSummary(terminal, summary, path);
            if (generated is not null)
            {
                var lookback = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ScanOptions>>().Value.LookbackDays;
                var expected = generated.ExpectedFindings(lookback);
                var found = expected.Count(e => rows.Any(r => r.MailboxId == e.MailboxId && r.GraphMessageId == e.GraphMessageId));
                await terminal.Output.WriteLineAsync(
                    $"The simulated tenant holds {expected.Count} exposures in enabled mailboxes within the {lookback}-day look-back; AuditAgent found {found} of them and {rows.Count - found} other findings.");
            }

            await terminal.Output.WriteLineAsync($"Next: dotnet run --project src/AuditAgent -- findings list --db {path} --format json");
            return summary.Status == "succeeded" ? ExitCodes.Ok : ExitCodes.PartialScan;
        }));
        return command;
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
