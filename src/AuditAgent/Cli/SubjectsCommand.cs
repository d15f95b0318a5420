using System.CommandLine;
using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

/// <summary>
/// `subjects find|erase ADDRESS`: a data subject's request (GDPR Art. 15 access, Art. 17 erasure), answered from the
/// keyed hashes the agent stores; each request is recorded (by hash, with who and why), never the address.
/// </summary>
internal static class SubjectsCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("subjects", "Data subject requests: where was this person exposed, and erasing their address from closed incidents.");
        command.Subcommands.Add(Find(terminal));
        command.Subcommands.Add(Erase(terminal));
        return command;
    }

    private static Argument<string> Address() => new("address") { Description = "The person's email address." };

    private static Option<string> Reason() => new("--reason") { Description = "Why (the request's reference); recorded with it.", Required = true };

    private static Command Find(Terminal terminal)
    {
        var address = Address();
        var reason = Reason();
        var by = IncidentsCommand.ByOption();
        var command = new Command("find", "The incidents where this address was exposed (an access request); the lookup is recorded.") { address, reason, by };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var found = await host.Services.GetRequiredService<IncidentActions>().FindSubjectAsync(parse.GetValue(address)!, new Actor(parse.GetValue(by)!), parse.GetValue(reason)!, ct);
            if (found.Count == 0)
            {
                await terminal.Output.WriteLineAsync("This address was not exposed in any incident the agent keeps.");
                return ExitCodes.Ok;
            }

            var times = host.Services.GetRequiredService<Formatting.DisplayTime>();
            var table = new Table().AddColumns("Incident", "Severity", "Status", times.Header("Detected"), "Field", "Address kept");
            foreach (var e in found)
            {
                table.AddRow(e.IncidentId.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Severity, e.Status, times.Column(e.DetectedAt), e.Field, e.Erased ? "erased" : "yes");
            }

            terminal.Ansi().Write(table);
            await terminal.Output.WriteLineAsync($"Exposed in {found.Count} {(found.Count == 1 ? "incident" : "incidents")}.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Erase(Terminal terminal)
    {
        var address = Address();
        var reason = Reason();
        var by = IncidentsCommand.ByOption();
        var command = new Command("erase", "Erase this person's address and name from closed incidents (an erasure request), keeping the keyed hash so counts stay right; open incidents are left alone.")
        {
            address, reason, by,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var (erased, open) = await host.Services.GetRequiredService<IncidentActions>().EraseSubjectAsync(parse.GetValue(address)!, new Actor(parse.GetValue(by)!), parse.GetValue(reason)!, ct);
            await terminal.Output.WriteLineAsync(erased.Count == 0 ? "Nothing erased." : $"Erased from {erased.Count} closed {(erased.Count == 1 ? "incident" : "incidents")}: {string.Join(", ", erased)}.");
            if (open.Count > 0)
            {
                await terminal.Output.WriteLineAsync($"Left in {open.Count} open {(open.Count == 1 ? "incident" : "incidents")} ({string.Join(", ", open)}): run this again once they are closed.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
