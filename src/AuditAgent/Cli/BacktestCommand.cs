using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditAgent.Backtest;
using AuditAgent.Core.Backtest;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>
/// `backtest`: what MailTips, a Purview DLP rule and a prompt-before-send add-in would have caught in this
/// tenant's own history, and how often they would have interrupted people, from the count-only rows the scan
/// keeps (Retention:MessageStatsDays).
/// </summary>
internal static class BacktestCommand
{
    public static Command Create(Terminal terminal)
    {
        var warn = new Option<int>("--warn-over") { Description = "Warn above this many recipients (MailTips' large audience defaults to 25).", DefaultValueFactory = _ => 25 };
        var block = new Option<int>("--block-over") { Description = "Block above this many recipients (a DLP rule's RecipientCountOver).", DefaultValueFactory = _ => 100 };
        var external = new Option<bool>("--external-only") { Description = "The DLP rule counts only recipients outside the organisation." };
        var since = new Option<string>("--since") { Description = "How far back: days, as 30d or 30 (at most Retention:MessageStatsDays are kept).", DefaultValueFactory = _ => "30d" };
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("backtest", "Replay prevention rules (MailTips, a Purview DLP rule, a prompt-before-send add-in) against this tenant's sent mail: incidents they would have caught or missed, and legitimate mail they would have interrupted.")
        {
            warn, block, external, since, format,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var days = Days(parse.GetValue(since)!);
            if (parse.GetValue(warn) < 1 || parse.GetValue(block) < 1)
            {
                throw new CliException("--warn-over and --block-over must be at least 1.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var result = await host.Services.GetRequiredService<BacktestReport>().RunAsync(
                new BacktestRequest(parse.GetValue(warn), parse.GetValue(block), parse.GetValue(external), days), ct);
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(Json(result), IncidentsCommand.Json));
                return ExitCodes.Ok;
            }

            await terminal.Output.WriteAsync(Text(result));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int Days(string text)
    {
        var trimmed = text.Trim().TrimEnd('d', 'D');
        return int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 3650
            ? days
            : throw new CliException($"--since '{text}' is not a number of days (e.g. 30d).");
    }

    internal static string Text(BacktestResult r)
    {
        var h = r.History;
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"Replayed {h.Messages} sent messages from {h.From.UtcDateTime:yyyy-MM-dd} to {h.To.UtcDateTime:yyyy-MM-dd} ({h.Period.Weeks:0.#} weeks, {h.Period.Users} mailboxes) with {r.IncidentCount} incidents.");
        if (h.Messages == 0)
        {
            w.WriteLine("No count rows yet: they are kept from the first scan of this version on (Retention:MessageStatsDays).");
        }

        foreach (var o in r.Rules)
        {
            w.WriteLine();
            w.WriteLine(o.Rule.Name);
            w.WriteLine($"  incidents: {o.IncidentsWarned.Count} warned, {o.IncidentsBlocked.Count} blocked, {o.IncidentsMissed.Count} missed{Ids(o.IncidentsMissed)}");
            w.WriteLine($"  legitimate mail: {o.MessagesWarned} warned ({o.WarnedPerWeek:0.#} a week, {o.WarnedPerWeekPer100Users:0.##} a week per 100 users), "
                + $"{o.MessagesBlocked} blocked ({o.BlockedPerWeek:0.#} a week, {o.BlockedPerWeekPer100Users:0.##} a week per 100 users)");
        }

        w.WriteLine();
        if (r.Recommendations.Count == 0)
        {
            w.WriteLine("No incident in the period: no threshold to recommend yet.");
        }

        foreach (var rec in r.Recommendations)
        {
            w.WriteLine($"Catches every incident with the fewest interruptions: more than {rec.Over} {BacktestReport.Describe(rec.Metric)}: {rec.Interruptions} legitimate messages ({rec.PerWeek:0.#} a week, {rec.PerWeekPer100Users:0.##} a week per 100 users).");
        }

        return w.ToString();
    }

    private static string Ids(IReadOnlyList<long> ids) =>
        ids.Count == 0 ? "" : " (#" + string.Join(", #", ids.Take(20)) + (ids.Count > 20 ? ", ..." : "") + ")";

    private static object Json(BacktestResult r) => new
    {
        from = r.History.From,
        to = r.History.To,
        weeks = Math.Round(r.History.Period.Weeks, 2),
        users = r.History.Period.Users,
        messages = r.History.Messages,
        incidents = r.IncidentCount,
        rules = r.Rules.Select(o => new
        {
            name = o.Rule.Name,
            metric = o.Rule.Metric.ToString(),
            warnOver = o.Rule.WarnOver,
            blockOver = o.Rule.BlockOver,
            incidentsWarned = o.IncidentsWarned,
            incidentsBlocked = o.IncidentsBlocked,
            incidentsMissed = o.IncidentsMissed,
            messagesWarned = o.MessagesWarned,
            messagesBlocked = o.MessagesBlocked,
            warnedPerWeek = Math.Round(o.WarnedPerWeek, 2),
            blockedPerWeek = Math.Round(o.BlockedPerWeek, 2),
            warnedPerWeekPer100Users = Math.Round(o.WarnedPerWeekPer100Users, 3),
            blockedPerWeekPer100Users = Math.Round(o.BlockedPerWeekPer100Users, 3),
        }),
        recommendations = r.Recommendations.Select(x => new
        {
            metric = x.Metric.ToString(),
            over = x.Over,
            interruptions = x.Interruptions,
            perWeek = Math.Round(x.PerWeek, 2),
            perWeekPer100Users = Math.Round(x.PerWeekPer100Users, 3),
        }),
    };
}
