using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditAgent.Events;
using AuditAgent.Formatting;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

/// <summary>`events list`: the event stream from a given id on, for a script or a SIEM's pull.</summary>
internal static class EventsCommand
{
    public static Command Create(Terminal terminal)
    {
        var after = new Option<long>("--after") { Description = "Only events after this id (the last one you saw); 0 for the beginning.", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = $"At most this many (1 to {EventFeed.MaxPage}).", DefaultValueFactory = _ => 100 };
        var format = new Option<string>("--format") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var list = new Command("list", "List events in the order they happened, after a given id.") { after, limit, format };
        list.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            if (parse.GetValue(limit) is < 1 or > EventFeed.MaxPage)
            {
                throw new CliException($"--limit must be between 1 and {EventFeed.MaxPage}.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var events = await host.Services.GetRequiredService<EventFeed>().AfterAsync(parse.GetValue(after), parse.GetValue(limit), ct);
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(new { events, last = events.Count == 0 ? parse.GetValue(after) : events[^1].Id }, IncidentsCommand.Json));
                return ExitCodes.Ok;
            }

            if (events.Count == 0)
            {
                await terminal.Output.WriteLineAsync($"No events after {parse.GetValue(after)}.");
                return ExitCodes.Ok;
            }

            var times = host.Services.GetRequiredService<DisplayTime>();
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("#", "Type", times.Header("When"), "Incident", "Severity", "Status");
            foreach (var e in events)
            {
                var incident = e.Data.TryGetProperty("incident", out var i) ? i : (JsonElement?)null;
                table.AddRow(
                    e.Id.ToString(CultureInfo.InvariantCulture), e.Type, times.Column(e.OccurredAt),
                    e.IncidentId?.ToString(CultureInfo.InvariantCulture) ?? "",
                    incident?.GetProperty("severity").GetString() ?? "", incident?.GetProperty("status").GetString() ?? "");
            }

            terminal.Ansi().Write(table);
            await terminal.Output.WriteLineAsync($"Next: --after {events[^1].Id}");
            return ExitCodes.Ok;
        }));
        var sinks = new Command("sinks", "Where each push sink stands: the last event it took, events delivered, the attempt at the next one, and dead letters.");
        sinks.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var store = host.Services.GetRequiredService<Storage.SinkStore>();
            var times = host.Services.GetRequiredService<DisplayTime>();
            var states = await store.ListAsync(ct);
            if (states.Count == 0)
            {
                await terminal.Output.WriteLineAsync("No sink has run yet (Events:Sinks, pushed by `run`).");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("Sink", "Last event", "Delivered", "Attempts", times.Header("Next attempt"), "Last error");
            foreach (var s in states)
            {
                table.AddRow(Markup.Escape(s.Name), s.LastEventId.ToString(CultureInfo.InvariantCulture), s.Delivered.ToString(CultureInfo.InvariantCulture),
                    s.Attempts.ToString(CultureInfo.InvariantCulture), times.Column(s.NextAttemptAt, ""), Markup.Escape(s.LastError ?? ""));
            }

            terminal.Ansi().Write(table);
            foreach (var d in await store.DeadLettersAsync(ct))
            {
                await terminal.Output.WriteLineAsync($"Dead letter: {d.Sink} did not take event {d.EventId} ({d.Error}), set aside {times.Minute(d.At)}{(d.Redeliver ? "; redelivery asked for" : "")}.");
            }

            return ExitCodes.Ok;
        }));
        var sinkName = new Option<string>("--sink") { Description = "The sink's Name (as `events sinks` lists it).", Required = true };
        var from = new Option<long>("--from") { Description = "Only dead letters of this event id and later.", DefaultValueFactory = _ => 0 };
        var redeliver = new Command("redeliver", "Send a sink's dead letters again (after fixing the receiver); `run` sends them before new events.") { sinkName, from };
        redeliver.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var store = host.Services.GetRequiredService<Storage.SinkStore>();
            var name = parse.GetValue(sinkName)!;
            var known = (await store.ListAsync(ct)).FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new CliException($"No sink named '{name}' has run (`events sinks` lists them).");
            var count = await store.RequestRedeliveryAsync(known.Name, parse.GetValue(from), ct);
            await terminal.Output.WriteLineAsync(count == 0
                ? $"{known.Name} has no dead letters{(parse.GetValue(from) > 0 ? $" from event {parse.GetValue(from)} on" : "")}."
                : $"{count} dead letter{(count == 1 ? "" : "s")} of {known.Name} will be sent again by `run`, before new events; each one taken leaves the dead letters.");
            return ExitCodes.Ok;
        }));
        var push = new Command("push", "Push what is waiting to every sink in Events:Sinks now, as `run` does every Events:PushEverySeconds (to try a sink's settings, or from cron without `run`).");
        push.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            if (host.Services.GetRequiredService<SinkCatalog>().Sinks.Count == 0)
            {
                throw new CliException("No sink is configured (Events:Sinks: Webhooks, Teams, Syslog, Sentinel, ServiceNow; docs/events.md).");
            }

            var pusher = host.Services.GetRequiredService<EventPusher>();
            var total = 0;
            for (int sent; (sent = await pusher.PushOnceAsync(ct)) > 0;)
            {
                total += sent; // until nothing more goes: everything delivered, or a sink waiting for its next attempt
            }

            var states = await host.Services.GetRequiredService<Storage.StatusQueries>().SinksAsync(ct);
            await terminal.Output.WriteLineAsync($"Pushed {total} event{(total == 1 ? "" : "s")}.");
            foreach (var s in states)
            {
                await terminal.Output.WriteLineAsync($"  {SafeText.ForTerminal(s.Name)}: {s.Delivered} delivered in all, {s.Backlog} behind"
                    + (s.Attempts > 0 ? $", failing: {SafeText.ForTerminal(s.LastError, 200)}" : "") + (s.DeadLetters > 0 ? $", {s.DeadLetters} dead letters" : "") + ".");
            }

            return states.Any(s => s.Attempts > 0) ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return new Command("events", "The event stream: every change a person would want to hear of, in order.") { list, sinks, redeliver, push };
    }
}
