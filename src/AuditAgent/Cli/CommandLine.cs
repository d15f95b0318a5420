using System.CommandLine;
using AuditAgent.Graph;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Cli;

/// <summary>The auditagent command line. Commands are thin: they parse, call services, print.</summary>
public static class CommandLine
{
    /// <summary>--config FILE, accepted by every command.</summary>
    internal static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "A JSON configuration file, layered over appsettings.json and AUDITAGENT__* environment variables.",
        Recursive = true,
    };

    /// <summary>--db PATH, accepted by every command: the SQLite database instead of Storage:SqlitePath.</summary>
    internal static readonly Option<string?> DbOption = new("--db")
    {
        Description = "The SQLite database (overrides Storage:SqlitePath; the demo's default is ./auditagent-demo.db).",
        Recursive = true,
    };

    /// <summary>--verbose, accepted by every command: informational logs, and stack traces on errors.</summary>
    internal static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Show informational logs, and stack traces for unexpected errors.",
        Recursive = true,
    };

    /// <summary>Parses and runs a command line. A usage mistake (unknown option, missing argument) exits 2, as documented.</summary>
    public static async Task<int> InvokeAsync(string[] args, Terminal? terminal = null)
    {
        var parse = Build(terminal).Parse(args);
        var code = await parse.InvokeAsync();
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }

    public static RootCommand Build(Terminal? terminal = null)
    {
        terminal ??= Terminal.System();
        var root = new RootCommand("AuditAgent finds mail sent to many external people with every address visible in To or Cc, after the fact.");
        root.Options.Add(ConfigOption);
        root.Options.Add(VerboseOption);
        root.Options.Add(DbOption);
        root.Subcommands.Add(DemoCommand.Create(terminal));
        root.Subcommands.Add(ScanCommand.Create(terminal));
        root.Subcommands.Add(FindingsCommand.Create(terminal));
        root.Subcommands.Add(IncidentsCommand.Create(terminal));
        root.Subcommands.Add(AllowlistCommand.Create(terminal));
        root.Subcommands.Add(RunCommand.Create(terminal));
        root.Subcommands.Add(WebCommand.Create(terminal));
        root.Subcommands.Add(EventsCommand.Create(terminal));
        root.Subcommands.Add(ApiKeysCommand.Create(terminal));
        root.Subcommands.Add(ConsentCommand.Create(terminal));
        root.Subcommands.Add(DoctorCommand.Create(terminal));
        root.Subcommands.Add(StatusCommand.Create(terminal));
        root.Subcommands.Add(KeysCommand.Create(terminal));
        root.Subcommands.Add(DigestCommand.Create(terminal));
        root.Subcommands.Add(EscalateCommand.Create(terminal));
        root.Subcommands.Add(ApologiesCommand.Create(terminal));
        root.Subcommands.Add(RegisterCommand.Create(terminal));
        root.Subcommands.Add(SubjectsCommand.Create(terminal));
        root.Subcommands.Add(EvidenceCommand.Create(terminal));
        root.Subcommands.Add(BacktestCommand.Create(terminal));
        root.Subcommands.Add(SimulatorCommand.Create(terminal));
        root.Subcommands.Add(BenchCommand.Create(terminal));
        return root;
    }

    /// <summary>--db as a configuration override (Storage:SqlitePath), or null when not given.</summary>
    internal static Dictionary<string, string?>? DbOverride(ParseResult parse) =>
        parse.GetValue(DbOption) is { } path ? new Dictionary<string, string?> { ["Storage:SqlitePath"] = path } : null;

    /// <summary>
    /// The services for a command that works on an existing database: configuration, then --db, then
    /// the database migrated to the current version. A missing database is a clear error, not a new file.
    /// A command that only reads (<paramref name="readOnly"/>) still works on a file it cannot write; one
    /// that writes says the database is read-only.
    /// </summary>
    internal static async Task<Microsoft.Extensions.Hosting.IHost> DatabaseHostAsync(ParseResult parse, Terminal terminal, CancellationToken ct, bool readOnly = false)
    {
        var host = AppHost.Build(parse.GetValue(ConfigOption), DbOverride(parse), ScanCommand.LogLevelFor(parse, terminal));
        // The settings every database command depends on are checked first (Graph's are not needed here).
        _ = host.Services.GetRequiredService<IOptions<Storage.StorageOptions>>().Value;
        _ = host.Services.GetRequiredService<IOptions<Protection.ProtectionOptions>>().Value;
        var database = host.Services.GetRequiredService<Storage.Database>();
        if (!database.IsPostgreSql && !File.Exists(database.Path))
        {
            host.Dispose();
            throw new CliException($"No database at {database.Path}. Run a scan first, or pass --db.");
        }

        await WarnIfReadableByOthersAsync(terminal, database);

        try
        {
            await host.Services.GetRequiredService<Hosting.DatabaseMigrator>().MigrateAsync(ct);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode is 8 or 14 && !database.IsPostgreSql)
        {
            // SQLITE_READONLY, SQLITE_CANTOPEN: a read-only file, or a folder where the WAL index cannot be created.
            if (!readOnly)
            {
                host.Dispose();
                throw new CliException($"The database {database.Path} is read-only here (a read-only mount, or a file this user cannot write), and this command changes it.", ExitCodes.Failure);
            }

            await database.OpenReadOnlyAsync(ct);
        }

        return host;
    }

    /// <summary>Every command that opens a SQLite file says when other users can read it (it holds personal data).</summary>
    internal static async Task WarnIfReadableByOthersAsync(Terminal terminal, Storage.Database database)
    {
        if (database.PermissionProblem() is { } exposed)
        {
            await terminal.Error.WriteLineAsync($"warning: {exposed}");
        }
    }

    /// <summary>
    /// Runs a command's body and turns failures into one line on stderr and an exit code. Only
    /// unexpected errors show a stack trace, and only with --verbose.
    /// </summary>
    internal static async Task<int> RunAsync(Terminal terminal, ParseResult parse, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException ex)
        {
            await terminal.Error.WriteLineAsync($"error: {ex.Message}");
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is Core.Incidents.InvalidTransitionException or Incidents.ActionRefusedException)
        {
            await terminal.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (Storage.NotFoundException ex)
        {
            await terminal.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is OptionsValidationException
            || (ex is AggregateException agg && agg.InnerExceptions.All(e => e is OptionsValidationException)))
        {
            // One section failing gives one exception; several (checked together at start-up) an aggregate.
            var failures = ex is AggregateException all
                ? all.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)
                : ((OptionsValidationException)ex).Failures;
            foreach (var failure in failures)
            {
                await terminal.Error.WriteLineAsync($"configuration error: {failure}");
            }

            return ExitCodes.Usage;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            await terminal.Error.WriteLineAsync($"configuration error: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (InvalidDataException ex)
        {
            await terminal.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            await terminal.Error.WriteLineAsync("cancelled: work already read was committed; the next run resumes from there.");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            await terminal.Error.WriteLineAsync($"error: {GraphErrors.Describe(ex)}");
            if (parse.GetValue(VerboseOption))
            {
                await terminal.Error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.Failure;
        }
    }
}
