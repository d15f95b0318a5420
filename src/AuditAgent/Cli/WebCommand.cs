using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Cli;

/// <summary>The console alone, without the scheduled jobs: a second instance behind a load balancer, say.</summary>
internal static class WebCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("web", "Serve only the triage console (on Web:Urls), without the scheduled jobs.");
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            await using var app = AppHost.BuildWeb(parse.GetValue(CommandLine.ConfigOption), CommandLine.DbOverride(parse),
                parse.GetValue(CommandLine.VerboseOption) ? LogLevel.Debug : LogLevel.Information);
            await AppHost.ServeAsync(app, terminal, beforeStart: null, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
