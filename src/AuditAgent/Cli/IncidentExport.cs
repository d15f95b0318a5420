using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>
/// An incident as text (show), JSON, Markdown or HTML (the evidence pack for the breach register).
/// Exposed addresses appear only when asked for; everything that came from a mailbox is escaped for
/// the format it goes into.
/// </summary>
internal static class IncidentExport
{
    public static Command Create(Terminal terminal)
    {
        var id = IncidentsCommand.IdArgument();
        var format = new Option<string>("--format") { Description = "md, html or json.", DefaultValueFactory = _ => "md" };
        format.AcceptOnlyFromAmong("md", "html", "json");
        var recipients = new Option<bool>("--include-recipients") { Description = "Include the exposed addresses. They are personal data: share the file with care." };
        var output = new Option<string?>("--out") { Description = "Write to this file (created readable by you only) instead of standard output." };
        var force = OutputFile.ForceOption();
        var command = new Command("export", "Export an incident as an evidence pack for the breach register.") { id, format, recipients, output, force };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var queries = host.Services.GetRequiredService<IncidentQueries>();
            var incidentId = parse.GetValue(id);
            var detail = await queries.GetAsync(incidentId, ct) ?? throw new NotFoundException($"there is no incident {incidentId}.");
            var domains = DomainCounts(await queries.ExposedDomainsAsync(incidentId, ct));
            // The addresses are opened only when asked for.
            var exposed = parse.GetValue(recipients) ? await queries.ExposedRecipientsAsync(incidentId, ct) : null;
            var document = ToDocument(detail, host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), domains, exposed, host.Services.GetRequiredService<DisplayTime>())
                with { ConsoleLink = host.Services.GetRequiredService<ConsoleLinks>().Incident(incidentId) };
            var text = await host.Services.GetRequiredService<Breach.EvidenceSeal>().SealAsync(parse.GetValue(format) switch
            {
                "json" => JsonSerializer.Serialize(document, IncidentsCommand.Json),
                "html" => Html(document),
                _ => Markdown(document),
            }, parse.GetValue(format) == "json", ct);
            if (parse.GetValue(output) is { } file)
            {
                await OutputFile.WriteAsync(file, text, parse.GetValue(force), ct);
                await terminal.Output.WriteLineAsync($"Wrote {Path.GetFullPath(file)}" + (document.Recipients is null ? "" : " (it holds the exposed addresses)."));
            }
            else
            {
                await terminal.Output.WriteAsync(text);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public sealed record DomainCount(string Domain, int Count);

    /// <summary>The exposed organisations as every export lists them: the most people first.</summary>
    public static IReadOnlyList<DomainCount> DomainCounts(IEnumerable<(string Domain, int Count)> domains) =>
        domains.Select(d => new DomainCount(d.Domain, d.Count)).OrderByDescending(d => d.Count).ThenBy(d => d.Domain, StringComparer.Ordinal).ToList();

    public sealed record MessageDoc(DateTimeOffset? SentAt, string Mailbox, string Sender, string? Subject, string? InternetMessageId, string? Role, int VisibleExternalCount, int ExternalDomainCount, int BccCount);

    public sealed record StepDoc(string Key, string Title, string Why, string Owner, string? Instructions, string Condition, DateTimeOffset DueAt, string Status, string? StatusBy, DateTimeOffset? StatusAt, string? Note, bool Overdue);

    /// <summary>A timeline entry with its place in the chain: the hash before it and its own.</summary>
    public sealed record EventDoc(DateTimeOffset At, string Actor, string Kind, string Text, string? PrevHash, string? Hash);

    public sealed record RecipientDoc(string Address, string? Name, string Field);

    public sealed record Document(
        long Id,
        string Severity,
        string Status,
        string Sender,
        string? Subject,
        DateTimeOffset DetectedAt,
        DateTimeOffset NotificationDeadline,
        DateTimeOffset FirstSentAt,
        int ExposedCount,
        int DomainCount,
        int PersonalCount,
        bool ReExposed,
        bool RepeatSender,
        string? Assignee,
        IReadOnlyList<string> Reasons,
        IReadOnlyList<MessageDoc> Messages,
        IReadOnlyList<DomainCount>? ExposedDomains,
        IReadOnlyList<StepDoc> Plan,
        IReadOnlyList<EventDoc> Timeline,
        IReadOnlyList<RecipientDoc>? Recipients,
        DateTimeOffset GeneratedAt,
        string TimeZone,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ConsoleLink = null,
        string? ChainHead = null,
        string Seal = "")
    {
        /// <summary>How the text, Markdown and HTML forms show times; the JSON keeps them UTC and names the zone.</summary>
        [JsonIgnore]
        public DisplayTime Times => DisplayTime.In(TimeZone);
    }

    public static Document ToDocument(IncidentDetail d, DateTimeOffset now, IReadOnlyList<DomainCount>? domains, IReadOnlyList<RecipientRow>? recipients, DisplayTime times)
    {
        var i = d.Incident;
        return new Document(
            // A shared mailbox's mail names both: the person, and the address it went out as.
            i.Id, i.Severity, i.Status, i.SentAs is null ? i.SenderAddress : $"{i.SenderAddress} (as {i.SentAs})", SafeText.Clean(i.Subject), i.DetectedAt, i.NotificationDueAt, i.FirstSentAt,
            i.ExposedCount, i.DomainCount, i.PersonalCount, i.ReExposed, i.RepeatSender, i.Assignee, d.Reasons,
            d.Messages.Select(m => new MessageDoc(m.SentAt, m.MailboxAddress, m.SenderAddress, SafeText.Clean(m.Subject), m.InternetMessageId, m.Role, m.VisibleExternalCount, m.ExternalDomainCount, m.BccCount)).ToList(),
            domains,
            d.Steps.Select(s => new StepDoc(s.StepKey, s.Title, s.Why, s.Owner, s.Instructions, s.Condition, s.DueAt, s.Status, s.StatusBy, s.StatusAt, s.Note, s.IsOverdue(now))).ToList(),
            d.Timeline.Select(e => new EventDoc(e.At, e.Actor, e.Kind, e.Text, e.PrevHash, e.Hash)).ToList(),
            recipients?.Select(r => new RecipientDoc(r.Address, r.Name, r.Field)).ToList(),
            now,
            times.Zone.Id,
            ChainHead: i.ChainHead);
    }

    private static string Deadline(Document d) =>
        IncidentLifecycle.TryParse(d.Status, out var status) && !status.IsOpen()
            ? $"GDPR Art. 33 assessment was due {d.Times.Minute(d.NotificationDeadline)}"
            : d.NotificationDeadline > d.GeneratedAt
                ? $"GDPR Art. 33 assessment due {d.Times.Minute(d.NotificationDeadline)}, in {(d.NotificationDeadline - d.GeneratedAt).TotalHours:0} h"
                : $"GDPR Art. 33 assessment was due {d.Times.Minute(d.NotificationDeadline)}: 72 hours have passed";

    /// <summary>The text of `incidents show`.</summary>
    public static string Text(IncidentDetail detail, DateTimeOffset now, DisplayTime times)
    {
        var d = ToDocument(detail, now, null, null, times);
        var b = new StringBuilder();
        var assigned = d.Assignee is null ? "" : $", assigned to {SafeText.ForTerminal(d.Assignee)}";
        b.AppendLine(CultureInfo.InvariantCulture, $"Incident {d.Id}: {d.Severity.ToUpperInvariant()}, {d.Status}{assigned}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Sender:   {SafeText.ForTerminal(d.Sender)}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Subject:  {SafeText.ForTerminal(d.Subject, 120)}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Detected: {d.Times.Minute(d.DetectedAt)} (awareness); {Deadline(d)}");
        var flags = (d.ReExposed ? "; RE-EXPOSED" : "") + (d.RepeatSender ? "; repeat sender" : "") + (detail.Incident.ReplyAllCount > 0 ? $"; {detail.Incident.ReplyAllCount} REPLIES TO ALL" : "")
            + (detail.Incident.SensitiveCategories.Count > 0 ? $"; SENSITIVE ({string.Join(", ", detail.Incident.SensitiveCategories)})" : "");
        b.AppendLine(CultureInfo.InvariantCulture, $"Exposed:  {d.ExposedCount} external addresses across {d.DomainCount} domains, {d.PersonalCount} personal mailboxes{flags}");
        b.AppendLine();
        b.AppendLine("Why:");
        foreach (var reason in d.Reasons)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  - {SafeText.ForTerminal(reason, 300)}");
        }

        b.AppendLine();
        b.AppendLine("Messages:");
        foreach (var m in d.Messages)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"  {d.Times.Minute(m.SentAt)}  {m.Role,-11}  {SafeText.ForTerminal(m.Mailbox, 40)}  {m.VisibleExternalCount} visible, {m.BccCount} Bcc  {SafeText.ForTerminal(m.InternetMessageId, 90)}");
        }

        b.AppendLine();
        b.AppendLine("Plan:");
        foreach (var s in d.Plan)
        {
            var box = s.Status switch { "done" => "[x]", "skipped" => "[-]", _ => "[ ]" };
            var state = s.Status == Todo ? (s.Overdue ? "OVERDUE" : "") : $"{s.Status} by {SafeText.ForTerminal(s.StatusBy)} {d.Times.Minute(s.StatusAt)}" + (s.Note is null ? "" : $": {SafeText.ForTerminal(s.Note, 200)}");
            b.AppendLine($"  {box} {s.Key}: {s.Title} ({s.Owner}, due {d.Times.Minute(s.DueAt)}) {state}".TrimEnd());
            b.AppendLine(CultureInfo.InvariantCulture, $"      Why: {s.Why}");
            if (s.Instructions is not null)
            {
                foreach (var line in s.Instructions.Split('\n'))
                {
                    b.AppendLine(CultureInfo.InvariantCulture, $"      {line}");
                }
            }
        }

        b.AppendLine();
        b.AppendLine("Timeline:");
        foreach (var e in d.Timeline)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {d.Times.Minute(e.At)}  {SafeText.ForTerminal(e.Actor, 30)}  {e.Kind}: {SafeText.ForTerminal(e.Text, 300)}");
        }

        return b.ToString();
    }

    /// <summary>Escapes Markdown's active characters so that mailbox text stays text.</summary>
    private static string Md(string? text)
    {
        var b = new StringBuilder();
        foreach (var c in SafeText.ForTerminal(text, 500))
        {
            if ("\\`*_{}[]()<>#!|~".Contains(c, StringComparison.Ordinal))
            {
                b.Append('\\');
            }

            b.Append(c);
        }

        return b.ToString();
    }

    public static string Markdown(Document d)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# Incident {d.Id}: {d.Severity} exposure of external recipients");
        b.AppendLine();
        b.AppendLine("| | |");
        b.AppendLine("|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Status | {d.Status} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Sender | {Md(d.Sender)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Subject | {Md(d.Subject)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| First sent | {d.Times.Minute(d.FirstSentAt)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Detected (awareness) | {d.Times.Minute(d.DetectedAt)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Notification clock | {Deadline(d)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Exposed | {d.ExposedCount} external addresses, {d.DomainCount} domains, {d.PersonalCount} personal mailboxes |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Re-exposed | {(d.ReExposed ? "yes" : "no")} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Repeat sender | {(d.RepeatSender ? "yes" : "no")} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| Assignee | {Md(d.Assignee ?? "-")} |");
        if (d.ConsoleLink is { } link)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"| Console | <{link}> |");
        }

        b.AppendLine();
        b.AppendLine("## Assessment");
        foreach (var r in d.Reasons)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- {Md(r)}");
        }

        b.AppendLine();
        b.AppendLine("## Messages");
        b.AppendLine("| Sent | Mailbox | Role | Visible external | Domains | Bcc | internetMessageId |");
        b.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in d.Messages)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"| {d.Times.Minute(m.SentAt)} | {Md(m.Mailbox)} | {m.Role} | {m.VisibleExternalCount} | {m.ExternalDomainCount} | {m.BccCount} | {Md(m.InternetMessageId)} |");
        }

        if (d.ExposedDomains is { Count: > 0 })
        {
            b.AppendLine();
            b.AppendLine("## Exposed addresses by domain");
            b.AppendLine("| Domain | Addresses |");
            b.AppendLine("|---|---|");
            foreach (var x in d.ExposedDomains)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| {Md(x.Domain)} | {x.Count} |");
            }
        }

        b.AppendLine();
        b.AppendLine("## Remediation plan");
        b.AppendLine("| Step | Owner | Due | Status |");
        b.AppendLine("|---|---|---|---|");
        foreach (var s in d.Plan)
        {
            var status = s.Status == Todo ? (s.Overdue ? "**overdue**" : "to do") : $"{s.Status} by {Md(s.StatusBy)}, {d.Times.Minute(s.StatusAt)}" + (s.Note is null ? "" : $": {Md(s.Note)}");
            b.AppendLine(CultureInfo.InvariantCulture, $"| {Md(s.Title)} ({s.Key}) | {s.Owner} | {d.Times.Minute(s.DueAt)} | {status} |");
        }

        b.AppendLine();
        b.AppendLine("## Timeline");
        b.AppendLine(CultureInfo.InvariantCulture, $"Each entry's hash covers the one before it; the chain head is `{d.ChainHead}` (`auditagent incidents verify {d.Id}` checks the database, `auditagent evidence verify FILE` this file).");
        b.AppendLine();
        foreach (var e in d.Timeline)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- {d.Times.Minute(e.At)}, {Md(e.Actor)}, {e.Kind}: {Md(e.Text)} `{e.Hash?[..12]}`");
        }

        if (d.Recipients is not null)
        {
            b.AppendLine();
            b.AppendLine("## Exposed recipients (personal data)");
            b.AppendLine("| Address | Name | Field |");
            b.AppendLine("|---|---|---|");
            foreach (var r in d.Recipients)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| {Md(r.Address)} | {Md(r.Name)} | {r.Field} |");
            }
        }

        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"_Generated by AuditAgent {d.Times.Minute(d.GeneratedAt)}._");
        return b.ToString();
    }

    /// <summary>
    /// Encoded, without control characters, and isolated: text from a mailbox written right-to-left (or
    /// with an override such as U+202E) cannot reorder what surrounds it.
    /// </summary>
    private static readonly string Todo = StepStatus.Todo.Name();

    private static string H(string? text) => $"<bdi>{WebUtility.HtmlEncode(SafeText.Clean(text, 4000))}</bdi>";

    public static string Html(Document d)
    {
        const string Cell = "style=\"border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top\"";
        var b = new StringBuilder();
        b.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        b.AppendLine(CultureInfo.InvariantCulture, $"<title>Incident {d.Id}</title></head>");
        b.AppendLine("<body style=\"font-family:Segoe UI,Arial,sans-serif;color:#222;max-width:1000px\">");
        b.AppendLine(CultureInfo.InvariantCulture, $"<h1>Incident {d.Id}: {H(d.Severity)} exposure of external recipients</h1>");
        b.AppendLine("<table style=\"border-collapse:collapse\">");
        void Row(string name, string value) => b.AppendLine(CultureInfo.InvariantCulture, $"<tr><th {Cell}>{name}</th><td {Cell}>{value}</td></tr>");
        Row("Status", H(d.Status));
        Row("Sender", H(d.Sender));
        Row("Subject", H(d.Subject));
        Row("First sent", H(d.Times.Minute(d.FirstSentAt)));
        Row("Detected (awareness)", H(d.Times.Minute(d.DetectedAt)));
        Row("Notification clock", H(Deadline(d)));
        Row("Exposed", H($"{d.ExposedCount} external addresses, {d.DomainCount} domains, {d.PersonalCount} personal mailboxes"));
        Row("Re-exposed", d.ReExposed ? "yes" : "no");
        Row("Repeat sender", d.RepeatSender ? "yes" : "no");
        Row("Assignee", H(d.Assignee ?? "-"));
        if (d.ConsoleLink is { } link)
        {
            Row("Console", $"<a href=\"{H(link)}\">{H(link)}</a>");
        }

        b.AppendLine("</table><h2>Assessment</h2><ul>");
        foreach (var r in d.Reasons)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"<li>{H(r)}</li>");
        }

        b.AppendLine("</ul><h2>Messages</h2><table style=\"border-collapse:collapse\">");
        b.AppendLine(CultureInfo.InvariantCulture, $"<tr><th {Cell}>Sent</th><th {Cell}>Mailbox</th><th {Cell}>Role</th><th {Cell}>Visible external</th><th {Cell}>Domains</th><th {Cell}>Bcc</th><th {Cell}>internetMessageId</th></tr>");
        foreach (var m in d.Messages)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"<tr><td {Cell}>{H(d.Times.Minute(m.SentAt))}</td><td {Cell}>{H(m.Mailbox)}</td><td {Cell}>{H(m.Role)}</td><td {Cell}>{m.VisibleExternalCount}</td><td {Cell}>{m.ExternalDomainCount}</td><td {Cell}>{m.BccCount}</td><td {Cell}>{H(m.InternetMessageId)}</td></tr>");
        }

        b.AppendLine("</table>");
        if (d.ExposedDomains is { Count: > 0 })
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"<h2>Exposed addresses by domain</h2><table style=\"border-collapse:collapse\"><tr><th {Cell}>Domain</th><th {Cell}>Addresses</th></tr>");
            foreach (var x in d.ExposedDomains)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"<tr><td {Cell}>{H(x.Domain)}</td><td {Cell}>{x.Count}</td></tr>");
            }

            b.AppendLine("</table>");
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"<h2>Remediation plan</h2><table style=\"border-collapse:collapse\"><tr><th {Cell}>Step</th><th {Cell}>Why</th><th {Cell}>Owner</th><th {Cell}>Due</th><th {Cell}>Status</th></tr>");
        foreach (var s in d.Plan)
        {
            var status = s.Status == Todo ? (s.Overdue ? "<strong style=\"color:#b00020\">overdue</strong>" : "to do") : H($"{s.Status} by {s.StatusBy}, {d.Times.Minute(s.StatusAt)}" + (s.Note is null ? "" : $": {s.Note}"));
            b.AppendLine(CultureInfo.InvariantCulture, $"<tr><td {Cell}>{H(s.Title)}</td><td {Cell}>{H(s.Why)}</td><td {Cell}>{H(s.Owner)}</td><td {Cell}>{H(d.Times.Minute(s.DueAt))}</td><td {Cell}>{status}</td></tr>");
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"</table><h2>Timeline</h2><p>Each entry's hash covers the one before it; the chain head is <code>{WebUtility.HtmlEncode(d.ChainHead)}</code>.</p><ul>");
        foreach (var e in d.Timeline)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"<li>{H(d.Times.Minute(e.At))}, {H(e.Actor)}, {H(e.Kind)}: {H(e.Text)} <code title=\"{WebUtility.HtmlEncode(e.Hash)}\">{WebUtility.HtmlEncode(e.Hash?[..12])}</code></li>");
        }

        b.AppendLine("</ul>");
        if (d.Recipients is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"<h2>Exposed recipients (personal data)</h2><table style=\"border-collapse:collapse\"><tr><th {Cell}>Address</th><th {Cell}>Name</th><th {Cell}>Field</th></tr>");
            foreach (var r in d.Recipients)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"<tr><td {Cell}>{H(r.Address)}</td><td {Cell}>{H(r.Name)}</td><td {Cell}>{H(r.Field)}</td></tr>");
            }

            b.AppendLine("</table>");
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"<p style=\"color:#666\">Generated by AuditAgent {H(d.Times.Minute(d.GeneratedAt))}.</p></body></html>");
        return b.ToString();
    }
}
