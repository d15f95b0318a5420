using System.CommandLine;
using System.Text.Json;
using AuditAgent.Hosting;

namespace AuditAgent.Cli;

internal static class DoctorCommand
{
    public static Command Create(Terminal terminal)
    {
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var mailbox = new Option<string?>("--mailbox") { Description = "The mailbox whose Sent Items to try (default: the first one found)." };
        var command = new Command("doctor", "Check the set-up: configuration, database, token, granted permissions, directory, a mailbox, the mail sender.") { format, mailbox };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var overrides = CommandLine.DbOverride(parse);
            using var host = AppHost.Build(parse.GetValue(CommandLine.ConfigOption), overrides, ScanCommand.LogLevelFor(parse, terminal));
            var results = await new Doctor(host.Services).RunAsync(parse.GetValue(mailbox), ct);
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(
                    results.Select(r => new { r.Check, Status = r.Status.ToString().ToLowerInvariant(), r.Detail, r.Fix }), IncidentsCommand.Json));
            }
            else
            {
                foreach (var r in results)
                {
                    await terminal.Output.WriteLineAsync($"{r.Status.ToString().ToUpperInvariant(),-5} {r.Check}: {r.Detail}");
                    if (r.Fix is not null && r.Status is CheckStatus.Fail or CheckStatus.Warn)
                    {
                        await terminal.Output.WriteLineAsync($"      fix: {r.Fix}");
                    }
                }

                var failed = results.Count(r => r.Status == CheckStatus.Fail);
                await terminal.Output.WriteLineAsync(failed == 0 ? "All checks passed." : $"{failed} checks failed.");
            }

            return results.Any(r => r.Status == CheckStatus.Fail) ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }
}
