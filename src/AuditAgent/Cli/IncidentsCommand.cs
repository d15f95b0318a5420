using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

internal static class IncidentsCommand
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Command Create(Terminal terminal)
    {
        var command = new Command("incidents", "Triage incidents: list, show, move through their lifecycle, work their plan, export evidence.");
        command.Subcommands.Add(List(terminal));
        command.Subcommands.Add(Show(terminal));
        command.Subcommands.Add(Transition(terminal, "ack", "Acknowledge a new incident.", IncidentAction.Acknowledge));
        command.Subcommands.Add(Assign(terminal));
        command.Subcommands.Add(Transition(terminal, "resolve", "Resolve an incident.", IncidentAction.Resolve));
        command.Subcommands.Add(Transition(terminal, "false-positive", "Mark an incident as a false positive, optionally allowlisting a domain or sender.", IncidentAction.MarkFalsePositive));
        command.Subcommands.Add(Transition(terminal, "reopen", "Reopen a resolved or false-positive incident.", IncidentAction.Reopen));
        command.Subcommands.Add(Step(terminal));
        command.Subcommands.Add(AssessCommand.Create(terminal));
        command.Subcommands.Add(NoticeCommand.Create(terminal));
        command.Subcommands.Add(VerifyCommand.Create(terminal));
        command.Subcommands.Add(IncidentExport.Create(terminal));
        return command;
    }

    internal static Argument<long> IdArgument() => new("id") { Description = "The incident's number." };

    /// <summary>One or more incident numbers: triage commands apply to each in its own transaction.</summary>
    private static Argument<long[]> IdsArgument() => new("id") { Description = "The incidents' numbers (one or more).", Arity = ArgumentArity.OneOrMore };

    /// <summary>
    /// Applies <paramref name="act"/> to each incident on its own: one line per id, and the first failure's
    /// exit code (2 for a refused or unknown one) when any failed, after trying them all.
    /// </summary>
    private static async Task<int> EachAsync(Terminal terminal, long[] ids, Func<long, Task<string>> act)
    {
        var exit = ExitCodes.Ok;
        foreach (var id in ids)
        {
            try
            {
                await terminal.Output.WriteLineAsync(await act(id));
            }
            catch (Exception ex) when (ex is InvalidTransitionException or NotFoundException or Incidents.ActionRefusedException)
            {
                await terminal.Error.WriteLineAsync($"error: incident {id}: {ex.Message}");
                exit = exit == ExitCodes.Ok ? ExitCodes.Usage : exit;
            }
        }

        return exit;
    }

    internal static Option<string> ByOption() => new("--by") { Description = "Who does this (recorded in the timeline).", Required = true };

    internal static Option<string?> NoteOption() => new("--note") { Description = "Why, in a few words (recorded in the timeline)." };

    private static Command List(Terminal terminal)
    {
        var status = new Option<string?>("--status") { Description = "new, acknowledged, remediating, resolved or false-positive." };
        status.AcceptOnlyFromAmong([.. IncidentStatuses.Names]);
        var severity = new Option<string?>("--severity") { Description = "low, medium, high or critical." };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var sender = new Option<string?>("--sender") { Description = "Only this sender's incidents (an address)." };
        var assignee = new Option<string?>("--assignee") { Description = "Only incidents assigned to this person." };
        var since = new Option<string?>("--since") { Description = "Only incidents detected on or after this date (yyyy-MM-dd, UTC)." };
        var overdue = new Option<bool>("--overdue") { Description = "Only open incidents with a plan step past its due time." };
        var format = new Option<string>("--format") { Description = "table, json or csv.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var command = new Command("list", "List incidents, the most severe first and the newest first within a severity.") { status, severity, sender, assignee, since, overdue, format };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } day)
            {
                from = DateTimeOffset.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                    ? parsed
                    : throw new CliException($"--since must be a date such as 2026-11-01 (it is '{day}').");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var queries = host.Services.GetRequiredService<IncidentQueries>();
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var rows = await queries.ListAsync(
                new IncidentFilter(parse.GetValue(status), parse.GetValue(severity), parse.GetValue(sender), parse.GetValue(assignee), from, parse.GetValue(overdue) ? now : null),
                ct);
            if (parse.GetValue(format) == "csv")
            {
                Csv.Write(terminal.Output, rows.Select(r => new
                {
                    r.Id,
                    r.Severity,
                    r.Status,
                    DetectedAt = r.DetectedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    Sender = Formatting.SafeText.Clean(r.SenderAddress, 320),
                    Subject = Formatting.SafeText.Clean(r.Subject),
                    Exposed = r.ExposedCount,
                    Domains = r.DomainCount,
                    Personal = r.PersonalCount,
                    r.ReExposed,
                    r.RepeatSender,
                    Assignee = Formatting.SafeText.Clean(r.Assignee, 320),
                }));
            }
            else if (parse.GetValue(format) == "json")
            {
                var messages = await queries.MessageIdsAsync(rows.Select(r => r.Id).ToList(), ct);
                var items = rows.Select(r => new
                {
                    r.Id,
                    r.Severity,
                    r.Status,
                    Sender = r.SenderAddress,
                    r.Subject,
                    r.DetectedAt,
                    r.FirstSentAt,
                    r.ExposedCount,
                    r.DomainCount,
                    r.PersonalCount,
                    r.ReExposed,
                    r.RepeatSender,
                    r.Assignee,
                    Messages = messages[r.Id].ToList(),
                });
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(items, Json));
            }
            else
            {
                PrintTable(terminal, rows, now, host.Services.GetRequiredService<Formatting.DisplayTime>());
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static void PrintTable(Terminal terminal, IReadOnlyList<IncidentRow> rows, DateTimeOffset now, Formatting.DisplayTime times)
    {
        if (rows.Count == 0)
        {
            terminal.Output.WriteLine("No incidents.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("#", "Severity", "Status", times.Header("Detected"), "Sender", "Subject", "Exposed", "Personal", "Flags");
        foreach (var r in rows)
        {
            var flags = new List<string>();
            if (r.ReExposed)
            {
                flags.Add("re-exposed");
            }

            if (r.RepeatSender)
            {
                flags.Add("repeat sender");
            }

            if (r.DecidedAt is null && r.Status != IncidentStatus.FalsePositive.Name() && now > r.NotificationDueAt)
            {
                flags.Add("72h passed, no decision");
            }

            table.AddRow(
                new Text(r.Id.ToString(CultureInfo.InvariantCulture)),
                new Text(r.Severity),
                new Text(r.Status),
                new Text(times.Column(r.DetectedAt)),
                new Text(SafeText.ForTerminal(r.SenderAddress, 40)),
                new Text(SafeText.ForTerminal(r.Subject, 40)),
                new Text(r.ExposedCount.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(r.PersonalCount.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(string.Join(", ", flags)));
        }

        terminal.Ansi().Write(table);
        terminal.Output.WriteLine($"{rows.Count} incidents.");
    }

    private static Command Show(Terminal terminal)
    {
        var id = IdArgument();
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("show", "Show an incident: facts, reasons, messages, plan with due times, timeline.") { id, format };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var detail = await host.Services.GetRequiredService<IncidentQueries>().GetAsync(parse.GetValue(id), ct)
                ?? throw new NotFoundException($"there is no incident {parse.GetValue(id)}.");
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(IncidentExport.ToDocument(detail, now, null, null, host.Services.GetRequiredService<Formatting.DisplayTime>()), Json));
            }
            else
            {
                await terminal.Output.WriteAsync(IncidentExport.Text(detail, now, host.Services.GetRequiredService<Formatting.DisplayTime>()));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Transition(Terminal terminal, string name, string description, IncidentAction action)
    {
        var id = IdsArgument();
        var by = ByOption();
        var note = NoteOption();
        var command = new Command(name, description) { id, by, note };
        Option<string?>? domain = null, sender = null, expires = null;
        if (action == IncidentAction.MarkFalsePositive)
        {
            domain = new Option<string?>("--allowlist-domain") { Description = "Also allowlist this partner domain (the --note is the reason)." };
            sender = new Option<string?>("--allowlist-sender") { Description = "Also allowlist this sender (the --note is the reason)." };
            expires = new Option<string?>("--expires") { Description = "The allowlist entry expires on this date (yyyy-MM-dd)." };
            command.Options.Add(domain);
            command.Options.Add(sender);
            command.Options.Add(expires);
        }

        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            AllowlistRequest? allow = null;
            if (domain is not null && sender is not null && expires is not null)
            {
                allow = AllowlistCommand.Request(parse.GetValue(domain), parse.GetValue(sender), parse.GetValue(note), parse.GetValue(expires), required: false);
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var actions = host.Services.GetRequiredService<Incidents.IncidentActions>();
            var allowed = false;
            return await EachAsync(terminal, parse.GetValue(id)!, async n =>
            {
                // An allowlist entry given with several incidents is added once, with the first.
                var status = await actions.ChangeStatusAsync(n, action, new Actor(parse.GetValue(by)!), parse.GetValue(note), allowed ? null : allow, ct);
                var line = $"Incident {n} is now {status.Name()}." + (allow is null || allowed ? "" : $" Allowlisted {allow.Value}.");
                allowed = true;
                return line;
            });
        }));
        return command;
    }

    private static Command Assign(Terminal terminal)
    {
        var id = IdsArgument();
        var to = new Option<string>("--to") { Description = "The person who owns the incident from now on.", Required = true };
        var by = ByOption();
        var note = NoteOption();
        var command = new Command("assign", "Assign an incident to someone.") { id, to, by, note };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var actions = host.Services.GetRequiredService<Incidents.IncidentActions>();
            return await EachAsync(terminal, parse.GetValue(id)!, async n =>
            {
                await actions.AssignAsync(n, parse.GetValue(to)!, new Actor(parse.GetValue(by)!), parse.GetValue(note), ct);
                return $"Incident {n} is assigned to {parse.GetValue(to)}.";
            });
        }));
        return command;
    }

    private static Command Step(Terminal terminal)
    {
        var id = IdArgument();
        var step = new Argument<string>("step") { Description = "The step's key, as `incidents show` lists it." };
        var state = new Argument<string>("state") { Description = "done or skip." };
        state.AcceptOnlyFromAmong("done", "skip");
        var by = ByOption();
        var note = NoteOption();
        var command = new Command("step", "Mark a plan step done or skipped.") { id, step, state, by, note };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var status = parse.GetValue(state) == "done" ? StepStatus.Done : StepStatus.Skipped;
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            await host.Services.GetRequiredService<Incidents.IncidentActions>().SetStepAsync(
                parse.GetValue(id), parse.GetValue(step)!, status, new Actor(parse.GetValue(by)!), parse.GetValue(note), ct);
            await terminal.Output.WriteLineAsync($"Step {parse.GetValue(step)} of incident {parse.GetValue(id)} is {status.Name()}.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
