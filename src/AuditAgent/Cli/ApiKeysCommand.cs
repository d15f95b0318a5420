using System.CommandLine;
using System.Globalization;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

/// <summary>`apikeys create|list|revoke`: keys for the events API (a SIEM's pull), stored hashed, shown once.</summary>
internal static class ApiKeysCommand
{
    public static Command Create(Terminal terminal)
    {
        var name = new Option<string>("--name") { Description = "Who or what uses it (e.g. splunk).", Required = true };
        var expires = new Option<string?>("--expires") { Description = "The last day it works (yyyy-MM-dd); without it, it works until revoked." };
        var create = new Command("create", "Create a key for GET /api/v1/events; it is printed once and stored only as a hash.") { name, expires };
        create.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            DateTimeOffset? until = null;
            if (parse.GetValue(expires) is { } text)
            {
                until = DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                    ? new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
                    : throw new CliException($"--expires must be a date such as 2027-06-30 (it is '{text}').");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var (id, key) = await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(parse.GetValue(name)!, until, now, ct);
            await terminal.Output.WriteLineAsync(key);
            await terminal.Error.WriteLineAsync($"API key {id} for {parse.GetValue(name)}{(until is null ? "" : $", valid until {parse.GetValue(expires)}")}. It is shown only now: send it as 'Authorization: Bearer <key>'.");
            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List the keys (never the keys themselves): name, created, expiry, revocation, last use.");
        list.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var times = host.Services.GetRequiredService<DisplayTime>();
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("#", "Name", times.Header("Created"), times.Header("Expires"), times.Header("Last used"), "State");
            foreach (var k in await host.Services.GetRequiredService<ApiKeyStore>().ListAsync(ct))
            {
                table.AddRow(k.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(SafeText.ForTerminal(k.Name, 40)), times.Column(k.CreatedAt),
                    times.Column(k.ExpiresAt, "never"), times.Column(k.LastUsedAt, "never"),
                    k.RevokedAt is not null ? "revoked" : k.IsUsable(now) ? "usable" : "expired");
            }

            terminal.Ansi().Write(table);
            return ExitCodes.Ok;
        }));

        var id = new Argument<long>("id") { Description = "The key's number, as `apikeys list` shows it." };
        var revoke = new Command("revoke", "Revoke a key at once.") { id };
        revoke.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            await host.Services.GetRequiredService<ApiKeyStore>().RevokeAsync(parse.GetValue(id), host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), ct);
            await terminal.Output.WriteLineAsync($"API key {parse.GetValue(id)} is revoked.");
            return ExitCodes.Ok;
        }));

        return new Command("apikeys", "Keys for the events API.") { create, list, revoke };
    }
}
