using System.CommandLine;
using AuditAgent.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Cli;

/// <summary>The agent as a service: scan, digest, escalate and purge on their schedules until stopped.</summary>
internal static class RunCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("run", "Run the agent: Quartz jobs scan, send the digest, escalate and purge on their schedules, and the console is served on Web:Urls, until SIGTERM or Ctrl+C.");
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var overrides = CommandLine.DbOverride(parse);
            await using var host = AppHost.BuildWeb(parse.GetValue(CommandLine.ConfigOption), overrides,
                parse.GetValue(CommandLine.VerboseOption) ? LogLevel.Debug : LogLevel.Information, services: (s, configuration) => s.AddAuditAgentWorker(configuration));
            // All settings, mail and schedules included, are checked before anything starts; the schedule is
            // printed before the jobs can fire.
            await AppHost.ServeAsync(host, terminal, async () =>
            {
                var schedule = host.Services.GetRequiredService<IOptions<ScheduleOptions>>().Value;
                var times = host.Services.GetRequiredService<Formatting.DisplayTime>();
                foreach (var (job, cron, next) in WorkerExtensions.NextFireTimes(schedule, host.Services.GetRequiredService<TimeProvider>().GetUtcNow()))
                {
                    await terminal.Error.WriteLineAsync($"{job}: \"{cron}\" in {schedule.TimeZone}, next at {times.Minute(next)}");
                }
            }, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
