using System.CommandLine;
using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>
/// The send-apologies job on demand: with incident numbers, first has the agent send those incidents' approved
/// apologies (one message per exposed person); then sends everything due, paced, until nothing is left for now.
/// </summary>
internal static class ApologiesCommand
{
    public static Command Create(Terminal terminal)
    {
        var ids = new Argument<long[]>("id") { Description = "Incidents whose approved apology the agent should now send (optional: without, only what is already due goes out).", Arity = ArgumentArity.ZeroOrMore };
        var by = new Option<string?>("--by") { Description = "Who asks for the sending (recorded in the timeline); needed with incident numbers." };
        var send = new Command("send", "Send approved apologies from Notifications:Apology:Mailbox, each person alone in one message, paced within Exchange's limits.") { ids, by };
        send.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var incidents = parse.GetValue(ids) ?? [];
            if (incidents.Length > 0 && string.IsNullOrWhiteSpace(parse.GetValue(by)))
            {
                throw new CliException("--by is required with incident numbers (it goes into the timeline).");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var actions = host.Services.GetRequiredService<IncidentActions>();
            var sending = host.Services.GetRequiredService<Storage.IncidentStore>();
            foreach (var id in incidents)
            {
                // Asked again after an interruption, an incident already being sent just carries on.
                if (await sending.ApologySendingAsync(id, ct) is { } already)
                {
                    await terminal.Output.WriteLineAsync($"Incident {id}: the agent is already sending its apology ({already.Sent} of {already.Total} sent).");
                    continue;
                }

                var count = await actions.SendApologyAsync(id, new Actor(parse.GetValue(by)!), ct);
                await terminal.Output.WriteLineAsync($"Incident {id}: the apology goes to {count} people, each alone in one message.");
            }

            var sender = host.Services.GetRequiredService<ApologySender>();
            int sent = 0, failed = 0, recovered = 0;
            ApologyRun run;
            do
            {
                run = await sender.SendAsync(ct);
                (sent, failed, recovered) = (sent + run.Sent, failed + run.Failed, recovered + run.Recovered);
            }
            while (run.Sent > 0 && !run.DailyLimitReached);

            await terminal.Output.WriteLineAsync($"{sent} apology messages sent, {recovered} found already sent after an interruption, {failed} failed"
                + (run.Waiting > 0 ? $"; {run.Waiting} interrupted ones wait for Sent Items (Notifications:Apology:SentItemsWaitSeconds)" : "")
                + (run.DailyLimitReached ? "; the day's limit (Notifications:Apology:RecipientsPerDay) is reached, the rest goes tomorrow" : "") + ".");
            return failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        var command = new Command("apologies", "Send approved apologies through the agent.");
        command.Subcommands.Add(send);
        return command;
    }
}
