using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuditAgent.Cli;

internal static class FindingsCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Command Create(Terminal terminal)
    {
        var format = new Option<string>("--format") { Description = "table, json or csv.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var recipients = new Option<bool>("--include-recipients") { Description = "Include the exposed addresses (json only). They are personal data: share with care." };

        var list = new Command("list", "List stored findings, newest first.") { format, recipients };
        list.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var queries = host.Services.GetRequiredService<FindingQueries>();
            var rows = await queries.ListAsync(ct);
            switch (parse.GetValue(format))
            {
                case "json":
                    await WriteJsonAsync(terminal, queries, rows, parse.GetValue(recipients), ct);
                    break;
                case "csv":
                    WriteCsv(terminal, rows);
                    break;
                default:
                    PrintTable(terminal, rows, host.Services.GetRequiredService<DisplayTime>());
                    break;
            }

            return ExitCodes.Ok;
        }));

        return new Command("findings", "Work with stored findings.") { list };
    }

    internal static void PrintTable(Terminal terminal, IReadOnlyList<FindingRow> rows, DisplayTime times)
    {
        if (rows.Count == 0)
        {
            terminal.Output.WriteLine("No findings.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns(times.Header("Sent"), "Mailbox", "Subject", "Visible external", "Domains", "Bcc", "Incident");
        foreach (var r in rows)
        {
            // Text cells, not markup: a subject such as "[red]" must print as it is.
            table.AddRow(
                new Text(times.Column(r.SentAt)),
                new Text(SafeText.ForTerminal(r.MailboxAddress, 40)),
                new Text(SafeText.ForTerminal(r.Subject, 50)),
                new Text(r.VisibleExternalCount.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(r.ExternalDomainCount.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(r.BccCount.ToString(CultureInfo.InvariantCulture)).RightJustified(),
                new Text(r.IncidentId is { } id ? $"#{id} {r.Severity} ({r.Role})" : r.SuppressionReason is not null ? "suppressed" : ""));
        }

        terminal.Ansi().Write(table);
        terminal.Output.WriteLine($"{rows.Count} findings.");
    }

    private static async Task WriteJsonAsync(Terminal terminal, FindingQueries queries, IReadOnlyList<FindingRow> rows, bool includeRecipients, CancellationToken ct)
    {
        var items = new List<FindingJson>(rows.Count);
        var recipients = includeRecipients ? await queries.RecipientsAsync(ct) : null;
        foreach (var r in rows)
        {
            var exposed = recipients?[r.Id].Select(x => new RecipientJson(x.Address, x.Name, x.Field)).ToList();
            items.Add(new FindingJson(r.Id, r.MailboxAddress, r.MailboxId, r.GraphMessageId, r.InternetMessageId, r.ConversationId, r.Subject,
                r.SentAt, r.SenderAddress, r.SenderName, r.VisibleExternalCount, r.ExternalDomainCount, r.BccCount, r.DetectedAt,
                r.Severity, r.SuppressionReason is not null, r.SuppressionReason, r.IncidentId, r.Role, exposed));
        }

        await terminal.Output.WriteLineAsync(JsonSerializer.Serialize(items, Json));
    }

    private static void WriteCsv(Terminal terminal, IReadOnlyList<FindingRow> rows)
    {
        Csv.Write(terminal.Output, rows.Select(r => new
        {
            r.Id,
            Mailbox = SafeText.Clean(r.MailboxAddress, 320),
            r.GraphMessageId,
            InternetMessageId = SafeText.Clean(r.InternetMessageId, 1000),
            Subject = SafeText.Clean(r.Subject),
            SentDateTime = r.SentAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            Sender = SafeText.Clean(r.SenderAddress, 320),
            r.VisibleExternalCount,
            r.ExternalDomainCount,
            r.BccCount,
        }));
    }

    private sealed record RecipientJson(string Address, string? Name, string Field);

    private sealed record FindingJson(
        long Id,
        string Mailbox,
        string MailboxId,
        string GraphMessageId,
        string? InternetMessageId,
        string? ConversationId,
        string? Subject,
        DateTimeOffset? SentDateTime,
        string Sender,
        string? SenderName,
        int VisibleExternalCount,
        int ExternalDomainCount,
        int BccCount,
        DateTimeOffset DetectedAt,
        string? Severity,
        bool Suppressed,
        string? SuppressionReason,
        long? IncidentId,
        string? Role,
        IReadOnlyList<RecipientJson>? VisibleExternalRecipients);
}
