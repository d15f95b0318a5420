using System.CommandLine;
using System.Diagnostics;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>`incidents verify`: each incident's timeline against its hash chain; the first changed, removed or reordered entry is named.</summary>
internal static class VerifyCommand
{
    public static Command Create(Terminal terminal)
    {
        var ids = new Argument<long[]>("id") { Description = "The incidents to verify (or --all).", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Verify every incident." };
        var command = new Command("verify", "Check that no timeline entry was changed, removed or reordered since it was written (each timeline is a hash chain).") { ids, all };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var wanted = parse.GetValue(ids) ?? [];
            if (wanted.Length == 0 != parse.GetValue(all))
            {
                throw new CliException("give incident numbers or --all.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var clock = Stopwatch.StartNew();
            var verdicts = await host.Services.GetRequiredService<IncidentStore>().VerifyAsync(wanted, ct);
            clock.Stop();
            foreach (var v in verdicts.Where(v => v.Problem is not null || wanted.Length > 0))
            {
                await terminal.Output.WriteLineAsync(v.Problem is null ? $"Incident {v.IncidentId}: intact ({v.Entries} entries)." : $"Incident {v.IncidentId}: BROKEN: {v.Problem}.");
            }

            var broken = verdicts.Count(v => v.Problem is not null);
            var entries = verdicts.Sum(v => v.Entries);
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            await terminal.Output.WriteLineAsync(
                $"{verdicts.Count} incidents, {entries} timeline entries verified in {clock.Elapsed.TotalSeconds:0.00} s ({verdicts.Count / seconds:0} incidents/s, {entries / seconds:0} entries/s): "
                + (broken == 0 ? "all intact." : $"{broken} broken."));
            return broken == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }
}
