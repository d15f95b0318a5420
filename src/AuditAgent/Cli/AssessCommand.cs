using System.CommandLine;
using System.Globalization;
using AuditAgent.Core.Breach;
using AuditAgent.Core.Incidents;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>`incidents assess`: a privacy officer's breach decision (GDPR Art. 33/34), as the console's form records it.</summary>
internal static class AssessCommand
{
    public static Command Create(Terminal terminal)
    {
        var id = IncidentsCommand.IdArgument();
        var risk = new Option<string>("--risk") { Description = "Risk to the people: unlikely, risk or high.", Required = true };
        risk.AcceptOnlyFromAmong("unlikely", "risk", "high");
        var reasons = new Option<string>("--reasons") { Description = "Why the risk is what it is.", Required = true };
        var notify = new Option<string>("--notify-authority") { Description = "yes or no: notify the supervisory authority (Art. 33).", Required = true };
        notify.AcceptOnlyFromAmong("yes", "no");
        var rationale = new Option<string?>("--rationale") { Description = "With --notify-authority no: why not (required)." };
        var tell = new Option<string>("--tell-subjects") { Description = "yes, no or not-required: tell the people affected (Art. 34).", Required = true };
        tell.AcceptOnlyFromAmong("yes", "no", "not-required");
        var ground = new Option<string?>("--ground") { Description = "With not-required: the Art. 34(3) ground: unintelligible, risk-removed or disproportionate-effort." };
        ground.AcceptOnlyFromAmong("unintelligible", "risk-removed", "disproportionate-effort");
        var groundDetail = new Option<string?>("--ground-detail") { Description = "With --ground: what makes it apply." };
        var awareAt = new Option<string?>("--aware-at") { Description = "When the organisation became aware (ISO 8601; UTC unless an offset is given). Default: as recorded before, else detection." };
        var awareReason = new Option<string?>("--aware-reason") { Description = "Why awareness is not the detection time (required when it is not)." };
        var delay = new Option<string?>("--delay-reasons") { Description = "After the 72 hours: the reasons for the delay (Art. 33(1))." };
        var notifiedAt = new Option<string?>("--notified-at") { Description = "When the authority was notified (ISO 8601), once it was." };
        var reference = new Option<string?>("--reference") { Description = "The authority's reference for the notification." };
        var by = IncidentsCommand.ByOption();
        var command = new Command("assess", "Record the breach decision: the risk, notifying the authority, telling the people (a changed decision keeps the earlier one).")
        {
            id, risk, reasons, notify, rationale, tell, ground, groundDetail, awareAt, awareReason, delay, notifiedAt, reference, by,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var n = parse.GetValue(id);
            var decisions = await host.Services.GetRequiredService<IncidentStore>().AssessmentsAsync(n, ct);
            var previous = decisions.Count > 0 ? decisions[^1] : null;
            var incident = (await host.Services.GetRequiredService<IncidentQueries>().GetAsync(n, ct))?.Incident
                ?? throw new NotFoundException($"there is no incident {n}.");
            var aware = parse.GetValue(awareAt) is { } text ? Time(text, "--aware-at") : incident.Awareness;
            // The options accept only the known words.
            _ = BreachRules.TryParseRisk(parse.GetValue(risk), out var level);
            _ = BreachRules.TryParseNotice(parse.GetValue(tell), out var notice);
            var assessment = new BreachAssessment(
                level, parse.GetValue(reasons)!, parse.GetValue(notify) == "yes", parse.GetValue(rationale), notice,
                BreachRules.TryParseGround(parse.GetValue(ground), out var g) ? g : null, parse.GetValue(groundDetail),
                aware, parse.GetValue(awareReason) ?? (aware == previous?.AwareAt ? previous.AwareChangeReason : null), parse.GetValue(delay),
                parse.GetValue(notifiedAt) is { } at ? Time(at, "--notified-at") : null, parse.GetValue(reference));
            await host.Services.GetRequiredService<Incidents.IncidentActions>().RecordAssessmentAsync(n, assessment, new Actor(parse.GetValue(by)!), ct);
            await terminal.Output.WriteLineAsync($"Incident {n}: {BreachRules.Summary(assessment)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static DateTimeOffset Time(string text, string option) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new CliException($"{option} must be a date and time such as 2026-11-30T09:00Z (it is '{text}').");
}
