using System.CommandLine;
using AuditAgent.Breach;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>`register export`: the breach register (GDPR Art. 33(5)) for an auditor, as CSV, JSON or an Excel workbook.</summary>
internal static class RegisterCommand
{
    public static Command Create(Terminal terminal)
    {
        var format = new Option<string>("--format") { Description = "csv, json or xlsx (xlsx needs --out).", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json", "xlsx");
        var output = new Option<string?>("--out") { Description = "Write to this file (created readable by you only) instead of standard output." };
        var force = OutputFile.ForceOption();
        var export = new Command("export", "Every incident that is not a false positive: facts, breach decision, rationale, dates (sent, detected, aware, decided, notified), data subjects, status. Never an address of an exposed person.")
        {
            format, output, force,
        };
        export.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var file = parse.GetValue(output);
            if (parse.GetValue(format) == "xlsx" && file is null)
            {
                throw new CliException("--format xlsx writes a file: give --out FILE.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var entries = await host.Services.GetRequiredService<RegisterQueries>().ListAsync(ct);
            if (file is not null)
            {
                await (parse.GetValue(format) switch
                {
                    "xlsx" => OutputFile.WriteAsync(file, RegisterExport.Xlsx(entries), parse.GetValue(force), ct),
                    "json" => OutputFile.WriteAsync(file, RegisterExport.Json(entries), parse.GetValue(force), ct),
                    _ => OutputFile.WriteAsync(file, RegisterExport.Csv(entries), parse.GetValue(force), ct),
                });
                await terminal.Output.WriteLineAsync($"Wrote {entries.Count} incidents to {Path.GetFullPath(file)}.");
            }
            else
            {
                await terminal.Output.WriteAsync(parse.GetValue(format) == "json" ? RegisterExport.Json(entries) : RegisterExport.Csv(entries));
            }

            return ExitCodes.Ok;
        }));
        var command = new Command("register", "The breach register (GDPR Art. 33(5)).");
        command.Subcommands.Add(export);
        return command;
    }
}
