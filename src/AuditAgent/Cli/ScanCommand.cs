using System.CommandLine;
using AuditAgent.Core.Scans;
using AuditAgent.Formatting;
using AuditAgent.Incidents;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace AuditAgent.Cli;

internal static class ScanCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("scan", "Scan every mailbox's Sent Items once, incrementally, and store the findings.");
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var overrides = CommandLine.DbOverride(parse);
            using var host = AppHost.Build(parse.GetValue(CommandLine.ConfigOption), overrides, LogLevelFor(parse, terminal));
            var (summary, incidents) = await RunScanAsync(host.Services, terminal, ct);
            PrintSummary(terminal, summary, incidents, host.Services.GetRequiredService<Database>().Path);
            return summary.Outcome switch
            {
                ScanOutcome.Succeeded => ExitCodes.Ok,
                ScanOutcome.Partial => ExitCodes.PartialScan,
                _ => ExitCodes.Failure,
            };
        }));
        return command;
    }

    internal static LogLevel LogLevelFor(ParseResult parse, Terminal terminal) =>
        parse.GetValue(CommandLine.VerboseOption) ? LogLevel.Information : terminal.Interactive ? LogLevel.Error : LogLevel.Warning;

    /// <summary>Migrates the database, scans (a progress bar on a terminal, plain lines otherwise) and processes incidents.</summary>
    internal static async Task<ScanResult> RunScanAsync(IServiceProvider services, Terminal terminal, CancellationToken ct)
    {
        // Every section, the playbook file included, is checked before any work starts.
        services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
        var database = services.GetRequiredService<Database>();
        await services.GetRequiredService<Hosting.DatabaseMigrator>().MigrateAsync(ct);
        await CommandLine.WarnIfReadableByOthersAsync(terminal, database);

        try
        {
            return await ScanWithProgressAsync(services.GetRequiredService<ScanPipeline>(), terminal, ct);
        }
        finally
        {
            // A one-off scan leaves the cluster view when it ends, so `status` does not count it as a live agent.
            await CheckOutAsync(services.GetRequiredService<ClusterStore>(), services.GetRequiredService<TimeProvider>(), terminal);
        }
    }

    private static async Task CheckOutAsync(ClusterStore cluster, TimeProvider time, Terminal terminal)
    {
        try
        {
            await cluster.CheckOutAsync(time.GetUtcNow(), CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex)
        {
            // After the scan's own outcome: `status` will show this agent as silent rather than stopped.
            await terminal.Error.WriteLineAsync($"warning: could not record that this scan stopped: {SafeText.ForTerminal(ex.Message, 200)}");
        }
    }

    private static async Task<ScanResult> ScanWithProgressAsync(ScanPipeline scanner, Terminal terminal, CancellationToken ct)
    {
        if (!terminal.Interactive)
        {
            var lastReported = 0;
            var progress = new SynchronousProgress(p =>
            {
                // About ten lines per scan, whatever its size.
                var step = Math.Max(1, p.MailboxesTotal / 10);
                if (p.MailboxesDone == p.MailboxesTotal || p.MailboxesDone - Volatile.Read(ref lastReported) >= step)
                {
                    Volatile.Write(ref lastReported, p.MailboxesDone);
                    terminal.Error.WriteLine($"scanned {p.MailboxesDone}/{p.MailboxesTotal} mailboxes, {p.Messages} messages, {p.Findings} findings");
                }
            });
            return await scanner.RunAsync(progress, ct);
        }

        ScanResult? summary = null;
        var started = DateTime.UtcNow;
        await terminal.Ansi(terminal.Error).Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("Scanning Sent Items", maxValue: 1);
                var progress = new SynchronousProgress(p =>
                {
                    var seconds = Math.Max(0.001, (DateTime.UtcNow - started).TotalSeconds);
                    task.MaxValue = Math.Max(1, p.MailboxesTotal);
                    task.Value = p.MailboxesDone;
                    task.Description = $"{p.MailboxesDone}/{p.MailboxesTotal} mailboxes, {p.Messages:N0} messages ({p.Messages / seconds:N0}/s), {p.Findings} findings";
                });
                summary = await scanner.RunAsync(progress, ct);
                task.Value = task.MaxValue;
            });
        return summary!;
    }

    internal static void PrintSummary(Terminal terminal, ScanSummary summary, IncidentRunSummary incidents, string databasePath)
    {
        var seconds = (summary.FinishedAt - summary.StartedAt).TotalSeconds;
        terminal.Output.WriteLine(
            $"Scan {summary.Status}: {summary.Mailboxes} mailboxes, {summary.Messages} new messages in {seconds:0.0} s, {summary.NewFindings} new findings.");
        if (summary.Mailboxes == 0 && summary.Outcome == ScanOutcome.Succeeded)
        {
            terminal.Output.WriteLine("No mailbox was scanned: check Scan:IncludeMailboxes and Scan:ExcludeMailboxes, and that the app may list users (doctor).");
        }
        if (summary.MalformedMessages > 0 || summary.UnresolvableRecipients > 0 || summary.Resyncs > 0)
        {
            terminal.Output.WriteLine(
                $"Skipped {summary.MalformedMessages} malformed messages (unreadable, an impossible sent time, or one id with different recipients); ignored {summary.UnresolvableRecipients} recipients without an SMTP address; {summary.Resyncs} mailboxes started a new sync.");
        }

        terminal.Output.WriteLine(
            $"Incidents: {incidents.Opened} opened, {incidents.Updated} updated, {incidents.ReExposures} re-exposures, {incidents.BccFollowUps} follow-ups sent properly in Bcc, {incidents.RepliesToAll} replies to all; {incidents.Suppressed} findings suppressed.");
        foreach (var failure in summary.Failures)
        {
            terminal.Output.WriteLine($"Mailbox {failure.MailboxId} failed: {failure.Reason}");
        }

        terminal.Output.WriteLine($"Database: {databasePath}");
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this reports inline so lines keep their order.</summary>
    private sealed class SynchronousProgress(Action<ScanProgress> report) : IProgress<ScanProgress>
    {
        private readonly Lock _gate = new();

        public void Report(ScanProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
