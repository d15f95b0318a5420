using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Scans;
using AuditAgent.Formatting;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace AuditAgent.Cli;

/// <summary>The agent's health: last scan, mailbox lag and errors, open incidents, jobs and their next fires, mail.</summary>
internal static class StatusCommand
{
    public static Command Create(Terminal terminal)
    {
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var check = new Option<bool>("--check") { Description = "Health probe: exit 1 unless a scan started within --max-age minutes and the last one neither failed nor died with its agent (for container and Kubernetes liveness checks)." };
        var maxAge = new Option<int>("--max-age") { Description = "Minutes since the last scan started that still count as healthy.", DefaultValueFactory = _ => 45 };
        var command = new Command("status", "Show the last scan, per-mailbox lag and errors, open incidents, job runs and next fire times.") { format, check, maxAge };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var status = await host.Services.GetRequiredService<StatusQueries>().GetAsync(ct);

            // An agent checks in at least every poll interval and every third of a lease while scanning; one
            // on this machine whose process is gone is known at once.
            var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var silentAfter = TimeSpan.FromSeconds(3 * Math.Max(cluster.PollSeconds, cluster.LeaseSeconds / 3));
            string State(AgentInstanceRow a) =>
                a.StoppedAt is not null ? "stopped"
                : AgentInstance.IsDeadOnThisHost(a.Host, a.Pid) ? "gone"
                : now - a.LastSeenAt <= silentAfter ? "alive" : "silent";

            // A scan still marked running while no agent is alive died with its agent (killed, or the machine lost).
            var lastScanStatus = status.LastScan?.Status == ScanOutcome.Running.Name() && !status.Cluster.Agents.Any(a => State(a) == "alive")
                ? "interrupted"
                : status.LastScan?.Status;
            if (parse.GetValue(check))
            {
                var scanRun = status.Jobs.FirstOrDefault(j => j.Job == JobNames.Scan);
                var started = scanRun?.StartedAt ?? status.LastScan?.StartedAt;
                var last = host.Services.GetRequiredService<Formatting.DisplayTime>().Minute(started, "never");
                var (healthy, line) = started is not { } s || now - s > TimeSpan.FromMinutes(parse.GetValue(maxAge))
                    ? (false, $"unhealthy: no scan started in the last {parse.GetValue(maxAge)} minutes (last: {last})")
                    : lastScanStatus == ScanOutcome.Failed.Name()
                        ? (false, $"unhealthy: the last scan (started {last}) failed: {SafeText.ForTerminal(status.LastScan?.Error, 200)}")
                    : lastScanStatus == "interrupted"
                        ? (false, $"unhealthy: the last scan (started {last}) is marked running, but no agent is alive to run it")
                    : (true, $"healthy: last scan started {last} ({lastScanStatus ?? scanRun?.Status})");
                await terminal.Output.WriteLineAsync(line);
                return healthy ? ExitCodes.Ok : ExitCodes.Failure;
            }

            var schedule = host.Services.GetRequiredService<IOptions<ScheduleOptions>>().Value;
            var next = WorkerExtensions.NextFireTimes(schedule, now);
            var jobs = next.Select(n =>
            {
                var last = status.Jobs.FirstOrDefault(j => j.Job == n.Job);
                return new
                {
                    n.Job,
                    n.Cron,
                    TimeZone = schedule.TimeZone,
                    NextFireAt = n.Next,
                    LastStatus = last?.Status,
                    LastStartedAt = last?.StartedAt,
                    LastFinishedAt = last?.FinishedAt,
                    LastSummary = last?.Summary,
                    LastError = last?.Error,
                    LastInstance = last?.Instance,
                };
            }).ToList();
            var failing = status.Mailboxes.Where(m => m.LastError is not null).ToList();
            var lagging = status.Mailboxes.Where(m => !m.NotScanned)
                .Select(m => new { m.Address, LagHours = m.LastSyncedAt is { } t ? Math.Round((now - t).TotalHours, 1) : (double?)null, m.LastSyncedAt })
                .OrderByDescending(m => m.LagHours ?? double.MaxValue)
                .ToList();
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    Cluster = new
                    {
                        Agents = status.Cluster.Agents.Select(a => new { a.Id, a.Host, a.Pid, a.Version, a.StartedAt, a.LastSeenAt, a.StoppedAt, State = State(a) }),
                        status.Cluster.Cycle,
                        status.Cluster.Covered,
                        status.Cluster.Shares,
                    },
                    LastScan = status.LastScan is null ? null : status.LastScan with { Status = lastScanStatus! },
                    Mailboxes = new
                    {
                        Total = status.Mailboxes.Count,
                        Failing = failing,
                        NeverSynced = lagging.Count(l => l.LagHours is null),
                        Lag = lagging,
                        Skipping = status.Mailboxes.Where(m => m.SkippedMessages > 0).Select(m => new { m.Address, m.SkippedMessages }),
                        NotPersonal = status.Mailboxes.Where(m => m.Kind is not "user").Select(m => new { m.Address, m.Kind, m.Purpose, m.AccountEnabled, m.NoMailboxAt }),
                    },
                    status.OpenIncidents,
                    Jobs = jobs,
                    status.Outbox,
                    status.LastDigestSentAt,
                    status.Sinks,
                    Console = host.Services.GetRequiredService<ConsoleLinks>().Root,
                }, IncidentsCommand.Json));
                return ExitCodes.Ok;
            }

            var o = terminal.Output;
            var times = host.Services.GetRequiredService<Formatting.DisplayTime>();
            string T(DateTimeOffset? t) => times.Minute(t, "never");
            if (host.Services.GetRequiredService<ConsoleLinks>().Root is { } console)
            {
                await o.WriteLineAsync($"Console: {console}");
            }

            await WriteClusterAsync(o, status.Cluster, State, T);
            var scan = status.LastScan;
            await o.WriteLineAsync(scan is null
                ? "Last scan: none yet."
                : $"Last scan: {lastScanStatus}, started {T(scan.StartedAt)}, finished {T(scan.FinishedAt)}; {scan.Mailboxes} mailboxes ({scan.MailboxesFailed} failed), {scan.Messages} messages, {scan.FindingsNew} new findings"
                  + (scan.Error is null ? "." : $"; error: {scan.Error}"));
            await o.WriteLineAsync($"Mailboxes: {status.Mailboxes.Count}, {failing.Count} failing, {lagging.Count(l => l.LagHours is null)} never fully synced"
                + (lagging.FirstOrDefault(l => l.LagHours is not null) is { } worst ? $", largest lag {worst.LagHours} h ({SafeText.ForTerminal(worst.Address)})." : "."));
            foreach (var f in failing.Take(20))
            {
                await o.WriteLineAsync($"  {SafeText.ForTerminal(f.Address)}: {SafeText.ForTerminal(f.LastError, 200)} ({T(f.LastErrorAt)})");
            }

            // Mailboxes that are not a person's own: where mass mail often starts, or what the scan leaves out, and why.
            var special = status.Mailboxes.Where(m => m.Kind is not "user").ToList();
            if (special.Count > 0)
            {
                await o.WriteLineAsync("Mailboxes that are not a person's: " + string.Join(", ", special.GroupBy(m => m.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}")) + ".");
                foreach (var m in special.Take(20))
                {
                    await o.WriteLineAsync($"  {SafeText.ForTerminal(m.Address)}: {m.Kind}");
                }
            }

            var skipping = status.Mailboxes.Where(m => m.SkippedMessages > 0).OrderByDescending(m => m.SkippedMessages).ToList();
            if (skipping.Count > 0)
            {
                await o.WriteLineAsync($"Skipped messages (malformed, impossible sent times, or one id with different recipients) in {skipping.Count} mailboxes:");
                foreach (var m in skipping.Take(20))
                {
                    await o.WriteLineAsync($"  {SafeText.ForTerminal(m.Address)}: {m.SkippedMessages}");
                }
            }

            await o.WriteLineAsync("Open incidents: " + string.Join(", ", Core.Incidents.SeverityOrder.NamesMostSevereFirst.Select(s => $"{status.OpenIncidents.GetValueOrDefault(s)} {s}")));
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("Job", "Schedule", "Next fire", "Last run", "Result");
            foreach (var j in jobs)
            {
                table.AddRow(
                    new Text(j.Job),
                    new Text($"{j.Cron} ({j.TimeZone})"),
                    new Text(T(j.NextFireAt)),
                    new Text(j.LastStatus is null ? "never" : $"{j.LastStatus} {T(j.LastStartedAt)}"),
                    new Text(SafeText.ForTerminal(j.LastError ?? j.LastSummary, 70)));
            }

            terminal.Ansi().Write(table);
            await o.WriteLineAsync($"Mail: {string.Join(", ", status.Outbox.Select(kv => $"{kv.Value} {kv.Key}"))}{(status.Outbox.Count == 0 ? "nothing sent yet" : "")}; last digest sent {T(status.LastDigestSentAt)}.");
            if (status.Outbox.GetValueOrDefault("unknown") > 0)
            {
                await o.WriteLineAsync("Some mail was interrupted while being sent over SMTP and may not have arrived; see the outbox table.");
            }

            foreach (var s in status.Sinks)
            {
                await o.WriteLineAsync($"Event sink {SafeText.ForTerminal(s.Name)}: {s.Delivered} delivered, {s.Backlog} behind"
                    + (s.Attempts > 0 ? $", failing ({SafeText.ForTerminal(s.LastError, 120)}; attempt {s.Attempts}, next {T(s.NextAttemptAt)})" : "")
                    + (s.DeadLetters > 0 ? $", {s.DeadLetters} dead letters (`auditagent events redeliver --sink {s.Name}` after fixing the receiver)" : "") + ".");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task WriteClusterAsync(TextWriter o, ClusterStatus cluster, Func<AgentInstanceRow, string> state, Func<DateTimeOffset?, string> t)
    {
        var agents = cluster.Agents;
        await o.WriteLineAsync($"Agents: {agents.Count(a => state(a) == "alive")} alive of {agents.Count} seen in the last day.");
        foreach (var a in agents)
        {
            var share = cluster.Shares.FirstOrDefault(s => s.Agent == a.Id);
            await o.WriteLineAsync($"  {SafeText.ForTerminal(a.Id)} (v{a.Version}): {state(a)}, last check-in {t(a.LastSeenAt)}"
                + (share is null ? "" : $"; this cycle: covered {share.Covered}, holds {share.Leased}"));
        }

        if (cluster.Cycle is { } c)
        {
            await o.WriteLineAsync($"Scan cycle {c.Id}: opened {t(c.StartedAt)} by {SafeText.ForTerminal(c.StartedBy)}; {cluster.Covered} of {c.Mailboxes} mailboxes covered"
                + (c.FinishedAt is { } f ? $", finished {t(f)}." : ", in progress."));
        }
    }
}
