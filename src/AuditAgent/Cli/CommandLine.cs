using System.CommandLine;
using AuditAgent.Graph;
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

    /// <summary>--verbose, accepted by every command: informational logs, and stack traces on errors.</summary>
    internal static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Show informational logs, and stack traces for unexpected errors.",
        Recursive = true,
    };

    public static RootCommand Build(Terminal? terminal = null)
    {
        terminal ??= Terminal.System();
        var root = new RootCommand("AuditAgent finds mail sent to many external people with every address visible in To or Cc, after the fact.");
        root.Options.Add(ConfigOption);
        root.Options.Add(VerboseOption);
        root.Subcommands.Add(DemoCommand.Create(terminal));
        root.Subcommands.Add(ScanCommand.Create(terminal));
        root.Subcommands.Add(FindingsCommand.Create(terminal));
        root.Subcommands.Add(SimulatorCommand.Create(terminal));
        return root;
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
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
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
