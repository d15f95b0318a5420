using System.CommandLine;
using AuditAgent.Hosting;
using AuditAgent.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            await CommandLine.WarnIfReadableByOthersAsync(terminal, app.Services.GetRequiredService<Storage.Database>());
            await app.StartAsync(ct);
            await ConsoleStart.AnnounceAsync(app, terminal);
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
