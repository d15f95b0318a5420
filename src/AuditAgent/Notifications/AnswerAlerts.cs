using System.Net;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

/// <summary>
/// The mails two answers call for at once: "I need help from security" tells the incident's owner (or the
/// security contact); "I did not send this" tells the security contact (a possibly compromised account
/// cannot wait for an assignee). The answer page sends it right away; the escalation job sends any an
/// interrupted page did not (the outbox key is the answer's, so never twice).
/// </summary>
public sealed class AnswerAlerts(Database database, IncidentQueries queries, OutboxStore outbox, OutboxService delivery, ConsoleLinks links, IOptions<NotificationOptions> options, TimeProvider time)
{
    public async Task SendAsync(long incidentId, MailAnswer answer, string recipient, string nonce, CancellationToken ct)
    {
        if (await EnqueueAsync(incidentId, answer, recipient, nonce, ct))
        {
            await delivery.DeliverAsync(ct);
        }
    }

    /// <summary>Queues the alerts of answers recorded without one (the page stopped in between); returns how many.</summary>
    public async Task<int> CatchUpAsync(CancellationToken ct)
    {
        IReadOnlyList<(long IncidentId, string Answer, string Recipient, string Nonce)> missing;
        await using (var c = await database.OpenAsync(ct))
        {
            missing = (await c.QueryAsync<(long, string, string, string)>(database.Command(
                """
                SELECT a.incident_id, a.answer, a.recipient, a.nonce FROM mail_answers a
                WHERE a.answer IN ('need-help', 'not-me')
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = a.answer || ':' || CAST(a.incident_id AS TEXT) || ':' || a.nonce)
                """, ct: ct))).ToList();
        }

        var queued = 0;
        foreach (var m in missing)
        {
            if (MailAnswers.TryParse(m.Answer, out MailAnswer answer) && await EnqueueAsync(m.IncidentId, answer, m.Recipient, m.Nonce, ct))
            {
                queued++;
            }
        }

        return queued;
    }

    private async Task<bool> EnqueueAsync(long id, MailAnswer answer, string recipient, string nonce, CancellationToken ct)
    {
        var incident = (await queries.GetAsync(id, ct))?.Incident;
        var notMe = answer == MailAnswer.NotMe;
        var to = notMe ? options.Value.SecurityContact ?? incident?.Assignee : incident?.Assignee ?? options.Value.SecurityContact;
        if (incident is null || to is null)
        {
            return false;
        }

        var url = links.Incident(id);
        var (subject, said, timeline) = notMe
            ? ($"Possible compromised account: the sender of incident #{id} says they did not send it", $"{recipient} says they did not send the message of incident #{id}. The account may be compromised: check its sign-ins now. The incident is now critical.", $"{to} was told at once that the sender says they did not send it.")
            : ($"Help asked for on incident #{id} ({incident.Severity})", $"{recipient}, who received the escalation of incident #{id}, asked for help from security from the mail. Please contact them.", $"{to} was told that {recipient} needs help.");
        var text = said + (url is null ? "" : $"\n{url}");
        var html = $"<p>{WebUtility.HtmlEncode(said)}</p>" + (url is null ? "" : $"<p><a href=\"{WebUtility.HtmlEncode(url)}\">Incident #{id}</a></p>");
        var now = time.GetUtcNow();
        return await outbox.EnqueueAsync(new OutboxMessage(notMe ? "compromise" : "help", $"{answer.Name()}:{id}:{nonce}", id, [to], subject, html, text, now, timeline), now, ct) is not null;
    }
}
