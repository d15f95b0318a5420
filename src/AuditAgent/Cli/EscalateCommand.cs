using System.CommandLine;
using AuditAgent.Notifications;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>The escalate-incidents job on demand: what the schedule would send now, each incident and reason once.</summary>
internal static class EscalateCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("escalate", "Send the escalations due now to the senders' managers (or the fallback contact), as the schedule would: each incident and reason once.");
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var run = await host.Services.GetRequiredService<EscalationService>().RunAsync(ct);
            await terminal.Output.WriteLineAsync(
                $"{run.Queued} escalations queued, {run.Delivery.Sent} sent, {run.Delivery.Failed} failed; {run.WithoutManager} without a manager or fallback contact.");
            return run.Delivery.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }
}
