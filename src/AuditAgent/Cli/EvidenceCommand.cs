using System.CommandLine;
using System.Text.Json;
using AuditAgent.Breach;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>`evidence verify FILE`: an exported incident (md, html or json) checked against its seal, and a JSON export's timeline against its chain.</summary>
internal static class EvidenceCommand
{
    public static Command Create(Terminal terminal)
    {
        var file = new Argument<string>("file") { Description = "An incident exported by `incidents export` or the console (md, html or json)." };
        var verify = new Command("verify", "Check that an exported incident was not changed since it was exported (its seal, under this agent's key ring) and, for JSON, that its timeline chains.") { file };
        verify.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new CliException($"there is no file {Path.GetFullPath(path)}.");
            }

            var content = await File.ReadAllTextAsync(path, ct);
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var problem = await host.Services.GetRequiredService<EvidenceSeal>().CheckAsync(content, ct) ?? ChainProblem(content);
            await terminal.Output.WriteLineAsync(problem is null
                ? $"{Path.GetFileName(path)}: intact, sealed by this agent's key ring" + (content.TrimStart().StartsWith('{') ? ", its timeline chains to its head." : ".")
                : $"{Path.GetFileName(path)}: NOT INTACT: {problem}.");
            return problem is null ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        var command = new Command("evidence", "Exported evidence.");
        command.Subcommands.Add(verify);
        return command;
    }

    /// <summary>A JSON export's timeline recomputed: each entry's hash from the one before and its content, the last equal to the head.</summary>
    private static string? ChainProblem(string content)
    {
        if (!content.TrimStart().StartsWith('{'))
        {
            return null;
        }

        var document = JsonSerializer.Deserialize<IncidentExport.Document>(content, IncidentsCommand.Json)!;
        var entries = document.Timeline.Select((e, i) => new TimelineChain.ChainedEntry(i + 1, document.Id, e.At, e.Actor, e.Kind, e.Text, e.PrevHash, e.Hash)).ToList();
        return TimelineChain.Verify(entries, document.ChainHead);
    }
}
