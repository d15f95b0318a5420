using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditAgent.Benchmark;
using Spectre.Console;

namespace AuditAgent.Cli;

internal static class BenchCommand
{
    public static Command Create(Terminal terminal)
    {
        var mailboxes = new Option<int>("--mailboxes") { DefaultValueFactory = _ => 1000, Description = "Mailboxes in the simulated tenant." };
        var messages = new Option<int>("--messages-per-mailbox") { DefaultValueFactory = _ => 200, Description = "Sent items per mailbox (over 45 days; the scan reads 30)." };
        var latency = new Option<int>("--latency-ms") { DefaultValueFactory = _ => 20, Description = "Latency of every Graph operation." };
        var faults = new Option<double>("--fault-rate") { Description = "Share of operations answered with a random 429 or 503." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var baseline = new Option<int>("--baseline-mailboxes") { DefaultValueFactory = _ => 50, Description = "Mailboxes the baseline reads (it is sequential: the time scales linearly)." };
        var parallel = new Option<int>("--parallel") { DefaultValueFactory = _ => 16, Description = "Scan:MaxParallelMailboxes for the agent." };
        var pageSize = new Option<int>("--page-size") { DefaultValueFactory = _ => 200, Description = "Graph:PageSize for the agent." };
        var json = new Option<string>("--json") { DefaultValueFactory = _ => "bench-results.json", Description = "Where to write the results as JSON." };
        var command = new Command("bench", "Measure scanning against the simulator: first scan, rescans, and the obvious SDK script, with the lower bound.")
        {
            mailboxes, messages, latency, faults, seed, baseline, parallel, pageSize, json,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var settings = new BenchSettings(parse.GetValue(mailboxes), parse.GetValue(messages), parse.GetValue(latency), parse.GetValue(faults),
                parse.GetValue(seed), parse.GetValue(baseline), parse.GetValue(parallel), parse.GetValue(pageSize));
            var result = await new BenchmarkRunner(settings, terminal.Error).RunAsync(ct);
            Print(terminal, result);
            await WriteResultsAsync(terminal, parse.GetValue(json)!, result, ct);
            return result.FindingsEqual ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        command.Subcommands.Add(ConsoleCommand(terminal));
        command.Subcommands.Add(EventsCommand(terminal));
        command.Subcommands.Add(LatencyCommand(terminal));
        command.Subcommands.Add(PagesCommand(terminal));
        return command;
    }

    /// <summary>`bench pages`: the CPU a page of Sent Items costs, on one thread, apart from the network, the database and the simulator.</summary>
    private static Command PagesCommand(Terminal terminal)
    {
        var mailboxes = new Option<int>("--mailboxes") { DefaultValueFactory = _ => 400, Description = "Mailboxes whose first page is read (one page each)." };
        var messages = new Option<int>("--messages-per-mailbox") { DefaultValueFactory = _ => 20, Description = "Sent items per mailbox (over 45 days; a page holds the 30-day window)." };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 20, Description = "Times every page is read and worked, after one round to compile." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var json = new Option<string>("--json") { DefaultValueFactory = _ => "bench-pages.json", Description = "Where to write the results as JSON." };
        var command = new Command("pages", "Measure the CPU a page of Sent Items costs the agent (reading, counting, detection, sealing) on one thread, round after round.")
        {
            mailboxes, messages, rounds, seed, json,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var settings = new PagesBenchSettings(parse.GetValue(mailboxes), parse.GetValue(messages), Math.Max(1, parse.GetValue(rounds)), parse.GetValue(seed));
            var result = await new PagesBenchmark(settings, terminal.Error).RunAsync(ct);
            await terminal.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.Pages:N0} pages, {result.Messages:N0} messages ({result.Bytes / 1e6:0.0} MB; {result.Findings:N0} findings, {result.BccMailings:N0} Bcc mailings): fastest round {result.Fastest:0.00} us a message, median {result.Median:0.00} us ({settings.Rounds} rounds, one thread); {result.Machine}."));
            await WriteResultsAsync(terminal, parse.GetValue(json)!, result, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>`bench events`: what delivering events costs: each sink's throughput, and the scan with sinks on and off.</summary>
    private static Command EventsCommand(Terminal terminal)
    {
        var events = new Option<int>("--events") { DefaultValueFactory = _ => 10_000, Description = "Events in the backlog each sink drains." };
        var mailboxes = new Option<int>("--mailboxes") { DefaultValueFactory = _ => 500, Description = "Mailboxes in the tenant the scan reads." };
        var messages = new Option<int>("--messages-per-mailbox") { DefaultValueFactory = _ => 100, Description = "Sent items per mailbox." };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 5, Description = "Scans with sinks off and on, alternating (the medians are compared)." };
        var json = new Option<string>("--json") { DefaultValueFactory = _ => "bench-events.json", Description = "Where to write the results as JSON." };
        var command = new Command("events", "Measure event delivery: webhook and syslog events per second, and the scan's speed with sinks on versus off.")
        {
            events, mailboxes, messages, rounds, json,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var settings = new EventsBenchSettings(parse.GetValue(events), parse.GetValue(mailboxes), parse.GetValue(messages), parse.GetValue(rounds));
            var result = await new EventsBenchmark(settings, terminal.Error).RunAsync(ct);
            foreach (var s in result.Sinks)
            {
                await terminal.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{s.Sink}: {s.Events:N0} events in {s.Seconds:0.00} s, {s.EventsPerSecond:N0} events/s"));
            }

            await terminal.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"scan ({settings.Mailboxes} mailboxes x {settings.MessagesPerMailbox} messages, median of {settings.Rounds}): {result.Scan.OffMedian:0.00} s with sinks off; {result.Scan.OnMedian:0.00} s with webhook and syslog on ({result.Scan.SlowdownPercent:+0.0;-0.0} %); {result.Scan.BacklogMedian:0.00} s while they drain {settings.Events:N0} events ({result.Scan.BacklogSlowdownPercent:+0.0;-0.0} %); {result.Machine}."));
            await WriteResultsAsync(terminal, parse.GetValue(json)!, result, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>`bench latency`: from a message's sentDateTime to its incident, and to its escalation, under the worker's real schedule.</summary>
    private static Command LatencyCommand(Terminal terminal)
    {
        var mailboxes = new Option<int>("--mailboxes") { DefaultValueFactory = _ => 20_000, Description = "Mailboxes in the simulated tenant." };
        var messages = new Option<int>("--messages-per-mailbox") { DefaultValueFactory = _ => 5, Description = "Sent items per mailbox before the run (the first scan reads them; it is not measured)." };
        var latency = new Option<int>("--latency-ms") { DefaultValueFactory = _ => 5, Description = "Latency of every Graph operation." };
        var exposures = new Option<int>("--exposures") { DefaultValueFactory = _ => 120, Description = "Exposures sent at random moments while the worker runs." };
        var minutes = new Option<double>("--minutes") { DefaultValueFactory = _ => 6, Description = "How long exposures keep arriving." };
        var scanCron = new Option<string>("--scan-cron") { DefaultValueFactory = _ => "0 * * * * ?", Description = "Schedule:ScanCron for the run (every minute)." };
        var escalationCron = new Option<string>("--escalation-cron") { DefaultValueFactory = _ => "30 * * * * ?", Description = "Schedule:EscalationCron for the run (every minute, at :30)." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var json = new Option<string>("--json") { DefaultValueFactory = _ => "bench-latency.json", Description = "Where to write the results as JSON." };
        var command = new Command("latency", "Measure detection latency: the worker on its schedule while exposures arrive; sent to incident, sent to escalation, Graph requests per mailbox per hour.")
        {
            mailboxes, messages, latency, exposures, minutes, scanCron, escalationCron, seed, json,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var settings = new LatencyBenchSettings(parse.GetValue(mailboxes), parse.GetValue(messages), parse.GetValue(latency), parse.GetValue(exposures),
                TimeSpan.FromMinutes(parse.GetValue(minutes)), parse.GetValue(scanCron)!, parse.GetValue(escalationCron)!, parse.GetValue(seed));
            var r = await new LatencyBenchmark(settings, terminal.Error).RunAsync(ct);
            static string P(Percentiles p) => string.Create(CultureInfo.InvariantCulture, $"p50 {p.P50:0.0} s, p95 {p.P95:0.0} s, max {p.Max:0.0} s over {p.Count}");
            await terminal.Output.WriteLineAsync($"Exposures found: {r.Detected} of {r.Injected} ({string.Join(", ", r.BySeverity.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Value} {s.Key}"))}).");
            await terminal.Output.WriteLineAsync($"Sent to incident opened: {P(r.Detection)}.");
            await terminal.Output.WriteLineAsync($"Sent to escalation mail sent (high and critical): {P(r.Escalation)}; critical only: {P(r.CriticalEscalation)}.");
            await terminal.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Graph: {r.GraphRequests:N0} HTTP requests in {r.MeasuredHours * 60:0.0} minutes ({r.ScanCycles} scan cycles); per mailbox, as Graph's limit counts them ($batch parts one by one): {r.RequestsPerMailboxPerHour:0.0} an hour on average, {r.BusiestMailboxPerHour:0.0} for the busiest (the limit is 10,000 per 10 minutes). First scan {r.FirstScanSeconds:0.0} s; {r.Machine}."));
            await terminal.Output.WriteLineAsync($"Graph operations by kind: {string.Join(", ", r.OperationsByKind.OrderByDescending(k => k.Value).Select(k => $"{k.Key} {k.Value:N0}"))}.");
            await WriteResultsAsync(terminal, parse.GetValue(json)!, r, ct);
            return r.Detected == r.Injected ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }

    /// <summary>`bench console`: the console's answer times on a large database.</summary>
    private static Command ConsoleCommand(Terminal terminal)
    {
        var incidents = new Option<int>("--incidents") { DefaultValueFactory = _ => 10_000, Description = "Incidents in the database." };
        var findings = new Option<int>("--findings-per-incident") { DefaultValueFactory = _ => 10, Description = "Findings (messages) per incident." };
        var requests = new Option<int>("--requests") { DefaultValueFactory = _ => 200, Description = "Requests per page (after 10 to warm up)." };
        var postgres = new Option<string?>("--postgres") { Description = "A PostgreSQL server's connection string (a database is created on it and dropped); SQLite when not given." };
        var json = new Option<string>("--json") { DefaultValueFactory = _ => "bench-console.json", Description = "Where to write the results as JSON." };
        var command = new Command("console", "Measure the console: overview, a filtered list page and an incident page on a large database, p50 and p95.")
        {
            incidents, findings, requests, postgres, json,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var settings = new ConsoleBenchSettings(parse.GetValue(incidents), parse.GetValue(findings), parse.GetValue(requests), parse.GetValue(postgres));
            var result = await new ConsoleBenchmark(settings, terminal.Error).RunAsync(ct);
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("Page", "Path", "Requests", "p50 (ms)", "p95 (ms)", "max (ms)");
            foreach (var p in result.Pages)
            {
                table.AddRow(p.Page, Markup.Escape(p.Path), p.Requests.ToString(CultureInfo.InvariantCulture),
                    p.P50.ToString("0.0", CultureInfo.InvariantCulture), p.P95.ToString("0.0", CultureInfo.InvariantCulture), p.Max.ToString("0.0", CultureInfo.InvariantCulture));
            }

            terminal.Ansi().Write(table);
            await terminal.Output.WriteLineAsync($"{result.Database}, {settings.Incidents:N0} incidents, {settings.Incidents * settings.FindingsPerIncident:N0} findings; {result.Machine}.");
            await WriteResultsAsync(terminal, parse.GetValue(json)!, result, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(Terminal terminal, BenchResult r)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("Phase", "Wall (s)", "Messages/s", "HTTP requests", "Req/mailbox", "MB received", "Peak WS (MB)", "Peak heap (MB)", "Findings", "Store share", "CPU s agent/sim");
        foreach (var p in r.Phases.Concat(r.Replays).Concat(r.WarmFirstScan is { } w ? [w] : Array.Empty<BenchPhase>()))
        {
            table.AddRow(
                new Text(p.Name),
                new Text(p.Seconds.ToString("0.00", CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.MessagesPerSecond.ToString("N0", CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.HttpRequests.ToString("N0", CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.RequestsPerMailbox.ToString("0.000", CultureInfo.InvariantCulture)).RightJustified(),
                new Text((p.BytesReceived / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.PeakWorkingSetMb.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.PeakManagedHeapMb.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.Findings < 0 ? "" : p.Findings.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(p.StoreShare is { } s ? s.ToString("P0", CultureInfo.InvariantCulture) : "").RightJustified(),
                new Text(string.Create(CultureInfo.InvariantCulture, $"{p.AgentCpuSeconds:0.0}/{p.SimulatorCpuSeconds:0.0}")).RightJustified());
        }

        terminal.Ansi().Write(table);
        var first = r.Phases[0];
        var extrapolated = r.Phases[^1];
        terminal.Output.WriteLine($"Lower bound for the first scan: {r.LowerBound}.");
        var versusBaseline = r.Phases.Count > 3 ? string.Create(CultureInfo.InvariantCulture, $"{extrapolated.Seconds / first.Seconds:0.0}x faster than the baseline, ") : "";
        terminal.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"First scan: {versusBaseline}{first.Seconds / r.LowerBoundSeconds:0.00}x the lower bound, {(double)first.HttpRequests / r.LowerBoundRequests:0.00}x the fewest requests; CPU {first.AgentCpuSeconds + first.SimulatorCpuSeconds:0.0} s on {Environment.ProcessorCount} cores in {first.Seconds:0.0} s."));
        if (r.Replays.Count > 1)
        {
            terminal.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Against the replay client (the same requests, a bare HttpClient): first scan {r.FirstScanToReplay:0.00}x ({first.Seconds:0.00} s / {r.Replays[0].Seconds:0.00} s), quiet rescan {r.RescanToReplay:0.00}x ({r.Phases[1].Seconds:0.00} s / {r.Replays[1].Seconds:0.00} s)."));
        }

        terminal.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Agent CPU in the first scan: {first.AgentCpuSeconds:0.00} s for {first.Messages:N0} messages, {r.AgentCpuMicrosecondsPerMessage:0.0} us each; the simulator's: {first.SimulatorCpuSeconds:0.00} s (replaying it: {(r.Replays.Count > 0 ? r.Replays[0].SimulatorCpuSeconds : 0):0.00} s simulator, {(r.Replays.Count > 0 ? r.Replays[0].AgentCpuSeconds : 0):0.00} s client); the same scan again in the warm process: {r.WarmFirstScan?.AgentCpuSeconds ?? 0:0.00} s, {r.WarmAgentCpuMicrosecondsPerMessage:0.0} us each, in {r.WarmFirstScan?.Seconds ?? 0:0.00} s; allocated {first.AllocatedBytesPerMessage / 1024:0.0} KB a message ({first.Gen0Collections:N0} gen0 collections); the JIT compiled {first.JitMethods:N0} methods in {first.JitSeconds:0.00} s of it ({r.WarmFirstScan?.JitMethods ?? 0:N0} in {r.WarmFirstScan?.JitSeconds ?? 0:0.00} s when warm)."));
        terminal.Output.WriteLine(r.FindingsEqual ? "Findings: the agent and the baseline found the same exposures." : "Findings DIFFER between the agent and the baseline.");
        terminal.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Count rows for backtest after the first scan: {r.CountRows:N0} rows, {r.CountRowBytes / 1024.0:N0} KB with their indexes, {r.CountRowBytesPerThousandMessages / 1024:0.0} KB per 1,000 messages (SQLite)."));
    }

    /// <summary>Writes a benchmark's results as JSON and says where.</summary>
    private static async Task WriteResultsAsync<T>(Terminal terminal, string path, T result, CancellationToken ct)
    {
        var file = Path.GetFullPath(path);
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(result, IncidentsCommand.Json), ct);
        await terminal.Output.WriteLineAsync($"Results: {file}");
    }
}
