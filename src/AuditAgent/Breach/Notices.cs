using AuditAgent.Core.Breach;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Breach;

/// <summary>
/// Drafts the notification to the supervisory authority (GDPR Art. 33(3)) from what the agent knows about an
/// incident: the nature of the breach with the number of people and records, the contact point, the likely
/// consequences, the measures taken (the plan's steps done, by whom and when) and proposed (those still to
/// do). What only a person can know is a field [TO FILL]. It never holds an address: not the exposed people's,
/// not the sender's.
/// </summary>
public sealed class Notices(IncidentQueries queries, IncidentStore store, Notifications.MailTemplates templates, IOptions<BreachOptions> options, IConfiguration configuration, DisplayTime display, TimeProvider time)
{
    public async Task<NoticeDocument?> AuthorityAsync(long id, CancellationToken ct)
    {
        if (await queries.GetAsync(id, ct) is not { } detail)
        {
            return null;
        }

        var decisions = await store.AssessmentsAsync(id, ct);
        var sending = await store.ApologySendingAsync(id, ct);
        var domains = await queries.ExposedDomainsAsync(id, ct);
        return Authority(detail, decisions.Count > 0 ? decisions[^1] : null, sending, domains.Count, options.Value,
            options.Value.Controller ?? configuration["Notifications:Organisation"], display, time.GetUtcNow());
    }

    /// <summary>
    /// The notice to the people affected (Art. 34(2)): plain language, the contact point, likely consequences,
    /// the measures taken, what they can do; from subjects-notice.liquid, one message per person ({name}).
    /// </summary>
    public async Task<(string Subject, string Text)?> SubjectsAsync(long id, CancellationToken ct)
    {
        if (await queries.GetAsync(id, ct) is not { } detail)
        {
            return null;
        }

        var i = detail.Incident;
        var o = options.Value;
        var taken = detail.Steps.Where(s => s.Status == "done").Select(s => s.Title).ToList();
        var facts = new SubjectsNoticeFacts(i.FirstSentAt, i.ExposedCount - 1, i.ReExposed, o.Controller ?? configuration["Notifications:Organisation"],
            o.DpoName, o.DpoEmail, o.DpoPhone, taken, "[YOUR NAME, ROLE]");
        return templates.RenderText(Notifications.MailTemplates.SubjectsNotice, null, facts, display);
    }

    public static NoticeDocument Authority(
        IncidentDetail detail, AssessmentRow? decision, ApologySending? apology, int domains, BreachOptions o, string? controller, DisplayTime display, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(detail);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(display);
        var i = detail.Incident;
        string T(DateTimeOffset t) => display.InWords(t);
        static string Fill(string what) => $"[TO FILL: {what}]";
        static string Or(string? value, string what) => value is { Length: > 0 } v ? v : Fill(what);
        var blasts = detail.Messages.Count(m => m.Role is "blast" or null);
        var sections = new List<NoticeSection>
        {
            new("Controller and contact point (Art. 33(3)(b))",
            [
                new NoticeBlock(null,
                [
                    $"Controller: {Or(controller, "the organisation's legal name")}",
                    $"Data protection officer or contact point: {Or(o.DpoName, "name")}, {Or(o.DpoEmail, "email address")}, {Or(o.DpoPhone, "telephone")}",
                    $"Supervisory authority: {Or(o.Authority, "the authority this goes to")}",
                    $"Internal reference: AuditAgent incident #{i.Id}",
                ]),
            ]),
            new("Nature of the breach (Art. 33(3)(a))",
            [
                new NoticeBlock($"On {T(i.FirstSentAt)}, an employee sent an email to {i.ExposedCount} people outside the organisation with every recipient's address visible to all the others (in To or Cc instead of Bcc)"
                    + (i.ReExposed ? "; a later message exposed the same people again" : "") + $". {Count(blasts, "message")} and {Count(Math.Max(0, detail.Messages.Count - blasts), "copy", "copies")} of {(blasts == 1 ? "it" : "them")} were found."),
                new NoticeBlock(null,
                [
                    $"Subject of the message: “{SafeText.Clean(i.Subject)}”",
                    $"Data subjects concerned: {i.ExposedCount} people, at {domains} organisations; {i.PersonalCount} of the addresses are private people's own mailboxes",
                    $"Categories of data subjects: {Fill("e.g. customers, patients, members, applicants")}",
                    $"Personal data records concerned: about {i.ExposedCount} email addresses, with the display names the message carried",
                    $"Special categories (Art. 9) revealed by being on the list: {Fill("e.g. health, beliefs; or none")}",
                    $"When it happened: {T(i.FirstSentAt)}; detected by AuditAgent: {T(i.DetectedAt)}; the organisation became aware: {T(i.Awareness)}"
                        + (decision?.AwareChangeReason is { Length: > 0 } moved ? $" ({moved})" : ""),
                ]),
            ]),
            new("Likely consequences (Art. 33(3)(c))",
            [
                new NoticeBlock("Each recipient now holds the others' email addresses and names. Likely consequences: unsolicited mail and phishing that uses the shared context, "
                    + "and the disclosure that each person has a relationship with the organisation" + (i.PersonalCount > 0 ? "; private addresses reach people they were never given to" : "") + "."),
                new NoticeBlock(Fill("anything the list itself reveals, e.g. that everyone on it is a patient of a clinic")),
            ]),
        };

        var done = detail.Steps.Where(s => s.Status == "done").Select(s => $"{s.Title}: done {(s.StatusAt is { } at ? T(at) : "")} by {s.StatusBy}" + (s.Note is { Length: > 0 } note ? $" ({note})" : "")).ToList();
        if (apology is { Sent: > 0 })
        {
            done.Add($"An apology went to {apology.Sent} of the {apology.Total} people, each alone in one message");
        }

        var proposed = detail.Steps.Where(s => s.IsTodo).Select(s => $"{s.Title}: by {T(s.DueAt)} ({s.Why})").ToList();
        sections.Add(new NoticeSection("Measures taken or proposed (Art. 33(3)(d))",
        [
            new NoticeBlock("Taken:", done.Count > 0 ? done : ["none recorded yet"]),
            new NoticeBlock("Proposed:", proposed.Count > 0 ? proposed : ["none outstanding"]),
        ]));
        sections.Add(new NoticeSection("Assessment", decision is null
            ? [new NoticeBlock(Fill("the breach decision has not been recorded; record it in AuditAgent (incidents assess) before sending this notification."))]
            : [
                new NoticeBlock(Capitalised(BreachRules.Summary(decision.ToAssessment()))),
                new NoticeBlock($"Decided {T(decision.DecidedAt)} by {decision.DecidedBy}; the notification was due {T(i.NotificationDueAt)}."
                    + (decision.DelayReasons is { Length: > 0 } delay ? $" Reasons for the delay (Art. 33(1)): {delay}" : "")),
            ]));
        sections.Add(new NoticeSection("Record",
        [
            new NoticeBlock($"The incident's timeline in AuditAgent is a hash chain; its head when this draft was made: {i.ChainHead ?? "(none)"}. `auditagent incidents verify {i.Id}` shows that no entry was changed, removed or reordered since."),
        ]));
        sections.Add(new NoticeSection("Information in phases (Art. 33(4))",
        [
            new NoticeBlock($"Where information is not yet available, it will follow without undue delay: {Fill("what is still being established")}."),
        ]));
        return new NoticeDocument(
            "Notification of a personal data breach (GDPR Art. 33)",
            $"Draft by AuditAgent of {display.InWords(now)}, incident #{i.Id}. Check every statement and fill in each [TO FILL] before sending.",
            sections);

        static string Count(int n, string one, string? many = null) => n == 1 ? $"1 {one}" : $"{n} {many ?? one + "s"}";

        static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
    }
}
