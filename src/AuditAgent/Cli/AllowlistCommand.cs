using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

internal static class AllowlistCommand
{
    public static Command Create(Terminal terminal)
    {
        var domain = new Option<string?>("--domain") { Description = "A partner domain (its subdomains included)." };
        var sender = new Option<string?>("--sender") { Description = "A sender address, e.g. the bulk-mail platform's service account." };
        var by = IncidentsCommand.ByOption();
        var reason = new Option<string>("--reason") { Description = "Why this is not an incident.", Required = true };
        var expires = new Option<string?>("--expires") { Description = "Stops suppressing after this date (yyyy-MM-dd)." };
        var add = new Command("add", "Add a partner domain or a sender whose mail is not an incident.") { domain, sender, by, reason, expires };
        add.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var request = Request(parse.GetValue(domain), parse.GetValue(sender), parse.GetValue(reason), parse.GetValue(expires), required: true)!;
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var id = await host.Services.GetRequiredService<Incidents.IncidentActions>().AddAllowlistAsync(request, parse.GetValue(by)!, ct);
            await terminal.Output.WriteLineAsync($"Allowlist entry {id}: {request.Kind.ToString().ToLowerInvariant()} {request.Value}.");
            return ExitCodes.Ok;
        }));

        var format = new Option<string>("--format") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var list = new Command("list", "List allowlist entries, with who added them, why and until when.") { format };
        list.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var entries = await host.Services.GetRequiredService<IncidentStore>().ListAllowlistAsync(ct);
            if (parse.GetValue(format) == "json")
            {
                await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(
                    entries.Select(e => new { e.Id, Kind = e.Kind.ToString().ToLowerInvariant(), e.Value, e.AddedBy, e.Reason, e.AddedAt, e.ExpiresAt, Active = e.IsActive(now) }),
                    IncidentsCommand.Json));
                return ExitCodes.Ok;
            }

            if (entries.Count == 0)
            {
                await terminal.Output.WriteLineAsync("The allowlist is empty.");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("#", "Kind", "Value", "Added by", "Reason", "Added (UTC)", "Expires", "Active");
            foreach (var e in entries)
            {
                table.AddRow(
                    new Text(e.Id.ToString(CultureInfo.InvariantCulture)),
                    new Text(e.Kind.ToString().ToLowerInvariant()),
                    new Text(SafeText.ForTerminal(e.Value, 50)),
                    new Text(SafeText.ForTerminal(e.AddedBy, 30)),
                    new Text(SafeText.ForTerminal(e.Reason, 50)),
                    new Text(e.AddedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                    new Text(e.ExpiresAt?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "never"),
                    new Text(e.IsActive(now) ? "yes" : "expired"));
            }

            terminal.Ansi().Write(table);
            return ExitCodes.Ok;
        }));

        var id = new Argument<long>("id") { Description = "The entry's number, as `allowlist list` shows it." };
        var removedBy = IncidentsCommand.ByOption();
        var remove = new Command("remove", "Remove an allowlist entry.") { id, removedBy };
        remove.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            await host.Services.GetRequiredService<Incidents.IncidentActions>().RemoveAllowlistAsync(parse.GetValue(id), ct);
            await terminal.Output.WriteLineAsync($"Allowlist entry {parse.GetValue(id)} removed by {parse.GetValue(removedBy)}.");
            return ExitCodes.Ok;
        }));

        return new Command("allowlist", "Partner domains and senders whose mail is not an incident.") { add, list, remove };
    }

    /// <summary>Checks the allowlist arguments: exactly one of domain or sender, a reason, a valid date.</summary>
    internal static AllowlistRequest? Request(string? domain, string? sender, string? reason, string? expires, bool required)
    {
        if (domain is null && sender is null)
        {
            return required ? throw new CliException("give --domain or --sender.") : null;
        }

        if (domain is not null && sender is not null)
        {
            throw new CliException("give either a domain or a sender, not both.");
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new CliException("an allowlist entry needs a reason (--reason, or --note with false-positive).");
        }

        DateTimeOffset? until = null;
        if (expires is not null)
        {
            if (!DateTimeOffset.TryParseExact(expires, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                throw new CliException($"--expires must be a date such as 2027-01-31 (it is '{expires}').");
            }

            until = parsed;
        }

        return domain is not null
            ? new AllowlistRequest(AllowlistKind.Domain, domain.Trim().ToLowerInvariant(), reason.Trim(), until)
            : new AllowlistRequest(AllowlistKind.Sender, sender!.Trim().ToLowerInvariant(), reason.Trim(), until);
    }
}
