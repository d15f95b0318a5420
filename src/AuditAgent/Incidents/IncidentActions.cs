using AuditAgent.Core.Breach;
using AuditAgent.Core.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Incidents;

/// <summary>An action refused for a reason the person can act on (an allowlist entry that would hide too much, say).</summary>
public sealed class ActionRefusedException(string message) : ExplainedException(message);

/// <summary>
/// Every change a person makes to an incident or the allowlist, in one place: the lifecycle rules
/// (Core), the allowlist policy, the clock, the actor and the timeline entry, each action in its own
/// transaction (IncidentStore). The CLI calls this today; the web console and mail links call the same
/// methods, so no face can hold a rule of its own.
/// </summary>
public sealed class IncidentActions(IncidentStore store, IncidentQueries queries, AllowlistPolicy policy, IOptions<ApologyOptions> apology, Protection.RecipientProtector protector, TimeProvider time)
{
    /// <summary>An answer from an escalation or sender mail (the link checked by the page), once per link.</summary>
    public Task<AnswerResult> AnswerFromMailAsync(long id, MailAnswer answer, string? detail, string recipient, string nonce, CancellationToken ct) =>
        store.AnswerFromMailAsync(id, answer, detail, recipient, nonce, time.GetUtcNow(), ct);

    /// <summary>Saves the apology draft; refused when it names any exposed person (an apology never carries the list).</summary>
    public async Task SaveApologyAsync(long id, string? subject, string? body, Actor by, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(subject) || string.IsNullOrWhiteSpace(body))
        {
            throw new ActionRefusedException("the apology needs a subject and a text.");
        }

        var named = (await queries.ExposedRecipientsAsync(id, ct)).Count(r => body.Contains(r.Address, StringComparison.OrdinalIgnoreCase) || subject.Contains(r.Address, StringComparison.OrdinalIgnoreCase));
        if (named > 0)
        {
            throw new ActionRefusedException($"the apology names {named} of the exposed people's addresses; it goes to each person alone and must never carry the list. Nothing was saved.");
        }

        await store.SaveApologyAsync(id, subject.Trim(), body.Trim().ReplaceLineEndings("\n"), by, time.GetUtcNow(), ct);
    }

    public Task ApproveApologyAsync(long id, Actor by, CancellationToken ct) =>
        store.ApproveApologyAsync(id, by, time.GetUtcNow(), ct);

    /// <summary>
    /// A privacy officer's breach decision (GDPR Art. 33/34), refused with every reason when it does not meet
    /// <see cref="BreachRules"/>: awareness defaults to detection, a late decision needs the reasons for the delay.
    /// </summary>
    public async Task RecordAssessmentAsync(long id, BreachAssessment assessment, Actor by, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(assessment);
        var incident = (await queries.GetAsync(id, ct))?.Incident ?? throw new NotFoundException($"there is no incident {id}.");
        var now = time.GetUtcNow();
        var problems = BreachRules.Problems(assessment, incident.DetectedAt, now);
        if (problems.Count > 0)
        {
            throw new ActionRefusedException("the decision was not recorded: " + string.Join(" ", problems));
        }

        await store.RecordAssessmentAsync(id, assessment, by, now, ct);
    }

    /// <summary>A data subject's access request (Art. 15): the incidents where their address was exposed; the lookup is recorded, by keyed hash.</summary>
    public async Task<IReadOnlyList<SubjectExposure>> FindSubjectAsync(string address, Actor by, string reason, CancellationToken ct)
    {
        var key = await SubjectKeyAsync(address, reason, ct);
        return await store.FindSubjectAsync(key, by, reason.Trim(), time.GetUtcNow(), ct);
    }

    /// <summary>A data subject's erasure request (Art. 17): their sealed address and name go from closed incidents; the keyed hash stays.</summary>
    public async Task<(IReadOnlyList<long> Erased, IReadOnlyList<long> LeftOpen)> EraseSubjectAsync(string address, Actor by, string reason, CancellationToken ct)
    {
        var key = await SubjectKeyAsync(address, reason, ct);
        return await store.EraseSubjectAsync(key, by, reason.Trim(), time.GetUtcNow(), ct);
    }

    private async Task<string> SubjectKeyAsync(string address, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ActionRefusedException("say why (the request's reference, for instance); it is recorded with the request.");
        }

        if (!address.Contains('@', StringComparison.Ordinal))
        {
            throw new ActionRefusedException($"'{Formatting.SafeText.ForTerminal(address)}' is not an email address.");
        }

        return (await protector.GetAsync(ct)).KeyOf(address);
    }

    /// <summary>Has the agent send the approved apology from Notifications:Apology:Mailbox, one message per exposed person; returns how many.</summary>
    public Task<int> SendApologyAsync(long id, Actor by, CancellationToken ct)
    {
        if (apology.Value.Mailbox?.Trim() is not { Length: > 0 } mailbox)
        {
            throw new ActionRefusedException("the agent sends apologies only from a mailbox set in Notifications:Apology:Mailbox (with Mail.Send scoped to it); without one, download the recipient list for the bulk-mail platform.");
        }

        if (!MimeKit.MailboxAddress.TryParse(mailbox, out var parsed) || parsed.Address != mailbox || !mailbox.Contains('@', StringComparison.Ordinal))
        {
            throw new ActionRefusedException($"Notifications:Apology:Mailbox '{Formatting.SafeText.ForTerminal(mailbox)}' is not a mail address; nothing was queued.");
        }

        return store.StartApologySendAsync(id, mailbox, key => ApologySender.MessageIdOf(id, key, mailbox), by, time.GetUtcNow(), ct);
    }

    public Task<IncidentStatus> AcknowledgeAsync(long id, Actor by, string? note, CancellationToken ct) =>
        store.ChangeStatusAsync(id, IncidentAction.Acknowledge, by, note, null, time.GetUtcNow(), ct);

    public Task<IncidentStatus> ResolveAsync(long id, Actor by, string? note, CancellationToken ct) =>
        store.ChangeStatusAsync(id, IncidentAction.Resolve, by, note, null, time.GetUtcNow(), ct);

    public Task<IncidentStatus> ReopenAsync(long id, Actor by, string? note, CancellationToken ct) =>
        store.ChangeStatusAsync(id, IncidentAction.Reopen, by, note, null, time.GetUtcNow(), ct);

    /// <param name="allowlist">Also allowlists this domain or sender, in the same transaction (checked first).</param>
    public async Task<IncidentStatus> MarkFalsePositiveAsync(long id, Actor by, string? note, AllowlistRequest? allowlist, CancellationToken ct)
    {
        if (allowlist is not null)
        {
            await CheckAsync(allowlist, ct);
        }

        return await store.ChangeStatusAsync(id, IncidentAction.MarkFalsePositive, by, note, allowlist, time.GetUtcNow(), ct);
    }

    /// <summary>The action a command names, for faces that take it as a word.</summary>
    public Task<IncidentStatus> ChangeStatusAsync(long id, IncidentAction action, Actor by, string? note, AllowlistRequest? allowlist, CancellationToken ct) => action switch
    {
        IncidentAction.Acknowledge => AcknowledgeAsync(id, by, note, ct),
        IncidentAction.Resolve => ResolveAsync(id, by, note, ct),
        IncidentAction.Reopen => ReopenAsync(id, by, note, ct),
        IncidentAction.MarkFalsePositive => MarkFalsePositiveAsync(id, by, note, allowlist, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "remediation starts with the first plan step done"),
    };

    public Task AssignAsync(long id, string assignee, Actor by, string? note, CancellationToken ct) =>
        store.AssignAsync(id, assignee, by, note, time.GetUtcNow(), ct);

    /// <summary>Marks a plan step done or skipped; the first one moves a new or acknowledged incident to remediating.</summary>
    public Task SetStepAsync(long id, string stepKey, StepStatus status, Actor by, string? note, CancellationToken ct) =>
        status == StepStatus.Todo
            ? throw new ActionRefusedException("a step can be marked done or skipped; reopen the incident to start over.")
            : store.SetStepAsync(id, stepKey, status.Name(), by, note, time.GetUtcNow(), ct);

    /// <summary>
    /// The exposed addresses of an incident, for a person who gave a reason: the reveal (who, when, why)
    /// is in the timeline before anything is shown.
    /// </summary>
    public async Task<IReadOnlyList<RecipientRow>> RevealRecipientsAsync(long id, Actor by, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ActionRefusedException("say why you need the addresses; the reason goes into the incident's timeline.");
        }

        await store.RecordRevealAsync(id, by, reason.Trim(), time.GetUtcNow(), ct);
        return await queries.ExposedRecipientsAsync(id, ct);
    }

    public async Task<long> AddAllowlistAsync(AllowlistRequest request, string by, CancellationToken ct)
    {
        await CheckAsync(request, ct);
        return await store.AddAllowlistAsync(request, by, time.GetUtcNow(), ct);
    }

    public Task RemoveAllowlistAsync(long entry, CancellationToken ct) => store.RemoveAllowlistAsync(entry, ct);

    private async Task CheckAsync(AllowlistRequest request, CancellationToken ct)
    {
        if (await policy.RefusalAsync(request, ct) is { } refusal)
        {
            throw new ActionRefusedException($"not allowlisted: {refusal}");
        }
    }
}
