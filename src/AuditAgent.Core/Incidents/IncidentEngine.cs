using System.Globalization;
using AuditAgent.Core.Detection;
using AuditAgent.Core.Playbooks;

namespace AuditAgent.Core.Incidents;

public enum FindingRole
{
    /// <summary>A message of the blast that opened (or joined) the incident.</summary>
    Blast,

    /// <summary>The same message (internetMessageId) seen in another mailbox: not a second exposure.</summary>
    Copy,

    /// <summary>A later message that exposed the incident's recipients again.</summary>
    ReExposure,

    /// <summary>A colleague's reply to all in the incident's conversation, from their own mailbox.</summary>
    ReplyAll,
}

/// <summary>A finding as the incident engine sees it.</summary>
public sealed record ExposureInput(
    long FindingId,
    string MailboxAddress,
    string? InternetMessageId,
    string SenderAddress,
    string? Subject,
    DateTimeOffset SentAt,
    DateTimeOffset DetectedAt,
    IReadOnlyList<ExposedRecipient> Recipients,
    string? SentAs = null,
    string? ConversationId = null,
    IReadOnlyList<SensitiveMatch>? Sensitive = null);

/// <summary>A reply to all from outside, found in the sender's mailbox by the reply watch: <paramref name="Reached"/> of the incident's exposed people saw it.</summary>
public sealed record ReplyAllInput(long Id, long IncidentKey, string ReplierDomain, DateTimeOffset SentAt, int Reached);

public sealed record ReplyAllOutcome(long ReplyId, long? IncidentKey);

/// <summary>A message sent properly, with its many external recipients in Bcc.</summary>
public sealed record BccMessageInput(long Id, string SenderAddress, DateTimeOffset SentAt, IReadOnlyCollection<string> BccRecipients);

/// <summary>What became of a message already processed: its incident, or why it was suppressed.</summary>
public sealed record KnownMessage(long? IncidentKey, string? SuppressionReason);

/// <summary>Everything the engine needs besides the incidents and findings: rules, lists, playbook, clock.</summary>
public sealed record IncidentContext(IncidentRules Rules, Allowlist Allowlist, ConsumerDomains Consumers, Playbook Playbook, DateTimeOffset Now);

/// <summary>An incident as the engine works on it: loaded from storage, or opened in this run (negative key).</summary>
public sealed class IncidentState
{
    public required long Key { get; init; }

    /// <summary>The person who sent it (never a shared mailbox when a copy names the person).</summary>
    public required string SenderAddress { get; set; }

    /// <summary>The address it went out as when that was not the person (a shared mailbox, send-as).</summary>
    public string? SentAs { get; set; }

    public required string SubjectKey { get; init; }

    public string? Subject { get; init; }

    public required DateTimeOffset FirstSentAt { get; set; }

    public required DateTimeOffset LastBlastAt { get; set; }

    public required DateTimeOffset DetectedAt { get; init; }

    public IncidentStatus Status { get; set; } = IncidentStatus.New;

    public Severity Severity { get; set; }

    public bool ReExposed { get; set; }

    public bool RepeatSender { get; set; }

    public int BlastMessages { get; set; } = 1;

    public int Copies { get; set; }

    public Dictionary<string, ExposedRecipient> Exposed { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Lines of history that stay in the reasons (re-exposures, repeat sender).</summary>
    public List<string> Notes { get; init; } = [];

    public HashSet<string> StepKeys { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Why the list is sensitive, one reason per category.</summary>
    public SortedDictionary<SensitiveCategory, string> Sensitive { get; init; } = [];

    /// <summary>Replies to all that put the list in front of everyone again.</summary>
    public int ReplyAllCount { get; set; }

    /// <summary>The conversations of the incident's messages: a colleague's reply to all in one joins the incident.</summary>
    public HashSet<string> ConversationIds { get; init; } = new(StringComparer.Ordinal);

    // Computed by the engine.
    public int PersonalCount { get; set; }

    public int DomainCount { get; set; }

    public IReadOnlyList<string> Reasons { get; set; } = [];

    public bool IsNew => Key < 0;
}

public sealed record FindingOutcome(long FindingId, long? IncidentKey, FindingRole? Role, string? SuppressionReason);

public sealed record TimelineEntry(long IncidentKey, DateTimeOffset At, string Actor, string Kind, string Text);

public sealed record PlanStepAdded(long IncidentKey, PlaybookStep Step, int Position, DateTimeOffset DueAt, DateTimeOffset AddedAt);

public sealed record BccOutcome(long BccMessageId, long? IncidentKey);

public sealed record IncidentRunResult(
    IReadOnlyList<FindingOutcome> Findings,
    IReadOnlyList<IncidentState> Changed,
    IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<PlanStepAdded> Steps,
    IReadOnlyList<BccOutcome> BccMessages)
{
    public IReadOnlyList<ReplyAllOutcome> ReplyAlls { get; init; } = [];
}

/// <summary>
/// Turns findings into incidents: suppression, one incident per blast, copies of one message counted
/// once, re-exposure of an incident's recipients, repeat senders, severity with its reasons, and the
/// plan steps that apply. Pure: everything, including the clock, comes in as arguments.
/// </summary>
public static class IncidentEngine
{
    public const string Actor = "AuditAgent";

    public static IncidentRunResult Run(
        IReadOnlyList<IncidentState> incidents,
        IReadOnlyDictionary<string, KnownMessage> knownMessages,
        IReadOnlyList<ExposureInput> findings,
        IReadOnlyList<BccMessageInput> bccMessages,
        IncidentContext context,
        IReadOnlyList<ReplyAllInput>? replyAlls = null)
    {
        ArgumentNullException.ThrowIfNull(incidents);
        ArgumentNullException.ThrowIfNull(knownMessages);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(bccMessages);
        ArgumentNullException.ThrowIfNull(context);
        return new Pass(incidents, knownMessages, context).Process(findings, bccMessages, replyAlls ?? []);
    }

    /// <summary>
    /// Severity from the facts: the size band, one up for many personal mailboxes, at least high for a sensitive
    /// list, one up for a re-exposure and one up for replies to all.
    /// </summary>
    public static Severity SeverityOf(int exposed, int personal, bool reExposed, IncidentRules rules, bool sensitive = false, bool repliedToAll = false)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var severity = rules.SeverityFor(exposed);
        if (PersonalRaises(exposed, personal, rules))
        {
            severity = severity.Raise();
        }

        if (sensitive && severity < Severity.High)
        {
            severity = Severity.High;
        }

        severity = reExposed ? severity.Raise() : severity;
        return repliedToAll ? severity.Raise() : severity;
    }

    private static bool PersonalRaises(int exposed, int personal, IncidentRules rules) =>
        personal > 0 && personal >= rules.PersonalShareToRaise * exposed;

    private sealed class Pass(IReadOnlyList<IncidentState> existing, IReadOnlyDictionary<string, KnownMessage> known, IncidentContext context)
    {
        private readonly List<IncidentState> _incidents = [.. existing];
        private readonly Dictionary<string, KnownMessage> _known = new(known, StringComparer.Ordinal);
        private readonly HashSet<IncidentState> _changed = [];
        private readonly List<FindingOutcome> _outcomes = [];
        private readonly List<TimelineEntry> _timeline = [];
        private readonly List<PlanStepAdded> _steps = [];
        private readonly List<BccOutcome> _bcc = [];
        private readonly List<ReplyAllOutcome> _replyAlls = [];
        private readonly IncidentRules _rules = context.Rules;

        public IncidentRunResult Process(IReadOnlyList<ExposureInput> findings, IReadOnlyList<BccMessageInput> bccMessages, IReadOnlyList<ReplyAllInput> replyAlls)
        {
            // The same message in several mailboxes: the copy in the sender's own mailbox is the blast,
            // whichever mailbox the scan happened to store first.
            foreach (var finding in findings
                .OrderBy(f => f.SentAt)
                .ThenBy(f => string.Equals(f.MailboxAddress, f.SenderAddress, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
                .ThenBy(f => f.FindingId))
            {
                Place(finding);
            }

            foreach (var message in bccMessages.OrderBy(m => m.SentAt).ThenBy(m => m.Id))
            {
                RecordBccFollowUp(message);
            }

            foreach (var reply in replyAlls.OrderBy(r => r.SentAt).ThenBy(r => r.Id))
            {
                RecordReplyAll(reply);
            }

            return new IncidentRunResult(_outcomes, [.. _changed], _timeline, _steps, _bcc) { ReplyAlls = _replyAlls };
        }

        private void RecordReplyAll(ReplyAllInput reply)
        {
            var incident = _incidents.FirstOrDefault(i => i.Key == reply.IncidentKey && i.Status.IsOpen());
            _replyAlls.Add(new ReplyAllOutcome(reply.Id, incident?.Key));
            if (incident is null)
            {
                return;
            }

            incident.ReplyAllCount++;
            Event(incident, TimelineKind.ReplyAll,
                $"A recipient at {reply.ReplierDomain} replied to all {Time(reply.SentAt)}: {reply.Reached} of the {incident.Exposed.Count} exposed addresses saw the list again ({RepliedToAll(incident.ReplyAllCount)}).");
            Recompute(incident, context.Now);
        }

        private static string RepliedToAll(int count) =>
            count == 1 ? "1 reply to all so far" : $"{count} replies to all so far";

        private void Place(ExposureInput f)
        {
            // Stored by an older version that did not check sent times: kept, but out of every window.
            if (!SentTimes.IsAfterEarliest(f.SentAt))
            {
                _outcomes.Add(new FindingOutcome(f.FindingId, null, null, $"not assessed: {SentTimes.Describe(f.SentAt)}"));
                return;
            }

            if (f.InternetMessageId is { } id && _known.TryGetValue(id, out var seen))
            {
                var copyOf = seen.IncidentKey is { } k ? _incidents.FirstOrDefault(i => i.Key == k) : null;
                _outcomes.Add(new FindingOutcome(f.FindingId, copyOf?.Key, copyOf is null ? null : FindingRole.Copy, seen.SuppressionReason));
                if (copyOf is not null)
                {
                    copyOf.Copies++;
                    Event(copyOf, TimelineKind.Copy, $"The same message is also in the mailbox {f.MailboxAddress}; it is one exposure, not two.");
                    if (f.SentAs is not null && copyOf.SenderAddress == f.SentAs && f.SenderAddress != f.SentAs)
                    {
                        // The first copy was the shared mailbox's own: this one names the person who sent it.
                        copyOf.SenderAddress = f.SenderAddress;
                        copyOf.SentAs = f.SentAs;
                        Event(copyOf, TimelineKind.Copy, $"That copy shows who sent it: {f.SenderAddress}, as {f.SentAs}.");
                    }

                    AddFacts(copyOf, f);
                    Recompute(copyOf, f.DetectedAt);
                }

                return;
            }

            var thread = f.ConversationId is { } conversation
                ? _incidents.FirstOrDefault(i => i.Status != IncidentStatus.FalsePositive && i.SenderAddress != f.SenderAddress
                    && f.SentAt >= i.FirstSentAt && i.ConversationIds.Contains(conversation))
                : null;
            if (thread is not null)
            {
                var before = thread.Exposed.Count;
                var overlap = f.Recipients.Count(r => thread.Exposed.ContainsKey(r.Address));
                var added = AddRecipients(thread, f.Recipients);
                thread.ReplyAllCount++;
                Event(thread, TimelineKind.ReplyAll,
                    $"A colleague, {f.SenderAddress}, replied to all from their own mailbox {Time(f.SentAt)}: {overlap} of the {before} addresses visible again"
                    + (added > 0 ? $", and {added} more" : "") + $" ({RepliedToAll(thread.ReplyAllCount)}). Their copy is part of this incident, not a new one.");
                Attach(f, thread, FindingRole.ReplyAll);
                return;
            }

            if (Suppression(f) is { } reason)
            {
                _outcomes.Add(new FindingOutcome(f.FindingId, null, null, reason));
                Remember(f, new KnownMessage(null, reason));
                return;
            }

            var subjectKey = SubjectKey.Of(f.Subject);
            var blast = _incidents
                .Where(i => i.Status != IncidentStatus.FalsePositive
                    && i.SenderAddress == f.SenderAddress
                    && i.SubjectKey == subjectKey
                    && (f.SentAt - i.FirstSentAt).Duration() <= _rules.GroupingWindow)
                .OrderBy(i => (f.SentAt - i.FirstSentAt).Duration())
                .FirstOrDefault();
            if (blast is not null)
            {
                var added = AddRecipients(blast, f.Recipients);
                AddFacts(blast, f);
                blast.BlastMessages++;
                blast.FirstSentAt = f.SentAt < blast.FirstSentAt ? f.SentAt : blast.FirstSentAt;
                blast.LastBlastAt = f.SentAt > blast.LastBlastAt ? f.SentAt : blast.LastBlastAt;
                Event(blast, TimelineKind.Grouped, $"Another batch of the same message, sent {Time(f.SentAt)}: {added} more addresses exposed.");
                Attach(f, blast, FindingRole.Blast);
                return;
            }

            var reExposed = _incidents
                .Where(i => i.Status != IncidentStatus.FalsePositive && f.SentAt > i.LastBlastAt && f.SentAt - i.LastBlastAt <= _rules.ReExposureWindow)
                .Select(i => (Incident: i, Overlap: f.Recipients.Count(r => i.Exposed.ContainsKey(r.Address))))
                .Where(x => x.Incident.Exposed.Count > 0 && x.Overlap >= _rules.ReExposureShare * x.Incident.Exposed.Count)
                .OrderByDescending(x => (double)x.Overlap / x.Incident.Exposed.Count)
                .ThenByDescending(x => x.Incident.LastBlastAt)
                .FirstOrDefault();
            if (reExposed.Incident is { } incident)
            {
                var before = incident.Exposed.Count;
                var added = AddRecipients(incident, f.Recipients);
                incident.ReExposed = true;
                var note = $"re-exposed {Time(f.SentAt)} by {f.SenderAddress}: {reExposed.Overlap} of the {before} addresses visible again"
                    + (added > 0 ? $", and {added} more" : "");
                incident.Notes.Add(note);
                Event(incident, TimelineKind.ReExposure, char.ToUpperInvariant(note[0]) + note[1..] + ".");
                Attach(f, incident, FindingRole.ReExposure);
                return;
            }

            Open(f, subjectKey);
        }

        private void Open(ExposureInput f, string subjectKey)
        {
            var incident = new IncidentState
            {
                Key = -1 - _incidents.Count(i => i.IsNew),
                SenderAddress = f.SenderAddress,
                SentAs = f.SentAs,
                SubjectKey = subjectKey,
                Subject = f.Subject,
                FirstSentAt = f.SentAt,
                LastBlastAt = f.SentAt,
                DetectedAt = f.DetectedAt,
            };
            AddRecipients(incident, f.Recipients);
            AddFacts(incident, f);
            var previous = _incidents
                .Where(i => i.SenderAddress == f.SenderAddress && i.Status != IncidentStatus.FalsePositive
                    && i.FirstSentAt < f.SentAt && f.SentAt - i.FirstSentAt <= _rules.RepeatSenderWindow)
                .OrderByDescending(i => i.FirstSentAt)
                .FirstOrDefault();
            if (previous is not null)
            {
                incident.RepeatSender = true;
                incident.Notes.Add($"repeat sender: {f.SenderAddress} caused another incident{(previous.IsNew ? "" : $" (#{previous.Key})")} on {Time(previous.FirstSentAt)}");
            }

            _incidents.Add(incident);
            Recompute(incident, f.DetectedAt, opening: true);
            Event(incident, TimelineKind.Detected,
                $"Opened as {incident.Severity.Name()}: {incident.Reasons[0]}. Plan: {_steps.Count(s => s.IncidentKey == incident.Key)} steps.");
            Attach(f, incident, FindingRole.Blast, recompute: false);
        }

        private void Attach(ExposureInput f, IncidentState incident, FindingRole role, bool recompute = true)
        {
            if (incident.Status == IncidentStatus.Resolved)
            {
                incident.Status = IncidentLifecycle.Apply(incident.Status, IncidentAction.Reopen);
                Event(incident, TimelineKind.Reopened, "Reopened: the recipients were exposed again.");
            }

            _outcomes.Add(new FindingOutcome(f.FindingId, incident.Key, role, null));
            Remember(f, new KnownMessage(incident.Key, null));
            if (recompute)
            {
                Recompute(incident, f.DetectedAt);
            }
        }

        private void Remember(ExposureInput f, KnownMessage outcome)
        {
            if (f.InternetMessageId is { } id)
            {
                _known[id] = outcome;
            }
        }

        private string? Suppression(ExposureInput f)
        {
            if (context.Allowlist.Sender(f.SenderAddress) is { } sender)
            {
                return $"allowlisted sender: {sender.Describe()}";
            }

            var domains = f.Recipients.Select(r => r.Domain).Distinct(StringComparer.Ordinal).ToList();
            var entries = domains.Select(context.Allowlist.Domain).ToList();
            if (entries.All(e => e is not null))
            {
                return $"all recipients are at allowlisted partner domains: {string.Join("; ", entries.Distinct().Select(e => e!.Describe()))}";
            }

            if (_rules.SuppressSingleOrganisation)
            {
                var organisations = domains.Select(Organisations.Of).Distinct(StringComparer.Ordinal).ToList();
                if (organisations.Count == 1 && !domains.Any(context.Consumers.Contains))
                {
                    return $"all recipients work at one organisation ({organisations[0]}) and already share an employer";
                }
            }

            return null;
        }

        private void RecordBccFollowUp(BccMessageInput message)
        {
            var bcc = message.BccRecipients.ToHashSet(StringComparer.Ordinal);
            var match = _incidents
                .Where(i => i.Status != IncidentStatus.FalsePositive && message.SentAt > i.FirstSentAt && message.SentAt - i.LastBlastAt <= _rules.ReExposureWindow)
                .Select(i => (Incident: i, Reached: i.Exposed.Keys.Count(bcc.Contains)))
                .Where(x => x.Incident.Exposed.Count > 0 && x.Reached >= _rules.ReExposureShare * x.Incident.Exposed.Count)
                .OrderByDescending(x => (double)x.Reached / x.Incident.Exposed.Count)
                .FirstOrDefault();
            _bcc.Add(new BccOutcome(message.Id, match.Incident?.Key));
            if (match.Incident is { } incident)
            {
                Event(incident, TimelineKind.Remediation,
                    $"Follow-up sent {Time(message.SentAt)} by {message.SenderAddress} in Bcc to {match.Reached} of the {incident.Exposed.Count} exposed addresses: done right, not an exposure.");
                _changed.Add(incident);
            }
        }

        /// <summary>What a message of the incident adds besides its recipients: its conversation and why its list is sensitive.</summary>
        private static void AddFacts(IncidentState incident, ExposureInput f)
        {
            if (f.ConversationId is { Length: > 0 } conversation)
            {
                incident.ConversationIds.Add(conversation);
            }

            foreach (var match in f.Sensitive ?? [])
            {
                incident.Sensitive.TryAdd(match.Category, match.Reason);
            }
        }

        private static int AddRecipients(IncidentState incident, IReadOnlyList<ExposedRecipient> recipients)
        {
            var added = 0;
            foreach (var r in recipients)
            {
                if (incident.Exposed.TryAdd(r.Address, r))
                {
                    added++;
                }
            }

            return added;
        }

        /// <summary>Severity, counts and reasons from the incident's facts; plan steps that now apply are added.</summary>
        private void Recompute(IncidentState incident, DateTimeOffset triggeredAt, bool opening = false)
        {
            var exposed = incident.Exposed.Count;
            var personal = incident.Exposed.Values.Where(r => context.Consumers.Contains(r.Domain)).ToList();
            var domains = incident.Exposed.Values.Select(r => r.Domain).Distinct(StringComparer.Ordinal).Count();
            var sensitive = incident.Sensitive.Count > 0;
            var severity = SeverityOf(exposed, personal.Count, incident.ReExposed, _rules, sensitive, incident.ReplyAllCount > 0);
            if (!opening && severity > incident.Severity)
            {
                Event(incident, TimelineKind.Severity, $"Severity raised from {incident.Severity.Name()} to {severity.Name()}.");
            }

            // Severity only goes up: a later change of lists or rules does not quietly downgrade an incident.
            incident.Severity = severity > incident.Severity ? severity : incident.Severity;
            incident.PersonalCount = personal.Count;
            incident.DomainCount = domains;

            var fields = incident.Exposed.Values.Select(r => r.Field).Distinct().Order().ToList();
            var where = fields.Count == 2 ? "To and Cc" : fields.Single().ToString();
            var reasons = new List<string>
            {
                $"{exposed} external addresses visible in {where} across {domains} domains"
                + (personal.Count > 0 ? $"; {personal.Count} are personal mailboxes" : ""),
            };
            var band = _rules.SeverityFor(exposed);
            reasons.Add($"{band.Name()} for {exposed} addresses (medium from {_rules.MediumFrom}, high from {_rules.HighFrom})");
            if (PersonalRaises(exposed, personal.Count, _rules))
            {
                var providers = personal.GroupBy(r => r.Domain).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(3).Select(g => g.Key);
                reasons.Add($"raised one level: {personal.Count} of {exposed} ({100.0 * personal.Count / exposed:0}%) are private people's mailboxes ({string.Join(", ", providers)})");
            }

            if (incident.BlastMessages > 1)
            {
                var span = incident.LastBlastAt - incident.FirstSentAt;
                reasons.Add($"sent as {incident.BlastMessages} messages with the same subject within {Math.Max(1, Math.Ceiling(span.TotalHours)):0} hours");
            }

            if (incident.Copies > 0)
            {
                reasons.Add($"the same message is in {incident.Copies + 1} mailboxes (counted once)");
            }

            if (sensitive)
            {
                reasons.AddRange(incident.Sensitive.Values.Select(reason => $"at least high: {reason}"));
            }

            if (incident.SentAs is not null)
            {
                reasons.Add($"sent by {incident.SenderAddress} as {incident.SentAs}");
            }

            if (incident.ReExposed)
            {
                reasons.Add("raised one level for the re-exposure");
            }

            if (incident.ReplyAllCount > 0)
            {
                reasons.Add($"raised one level: {incident.ReplyAllCount} {(incident.ReplyAllCount == 1 ? "reply" : "replies")} to all exposed the list again");
            }

            reasons.AddRange(incident.Notes);
            incident.Reasons = reasons;
            _changed.Add(incident);

            var facts = new PlanFacts(incident.Severity, incident.PersonalCount, incident.ReExposed, incident.ReplyAllCount, sensitive);
            var steps = context.Playbook.Steps;
            for (var position = 0; position < steps.Count; position++)
            {
                var step = steps[position];
                if (step.When.Holds(facts) && incident.StepKeys.Add(step.Key))
                {
                    // Due times run from detection, or from the event that made the step apply.
                    var dueAt = (opening ? incident.DetectedAt : triggeredAt) + step.DueAfter;
                    _steps.Add(new PlanStepAdded(incident.Key, step, position, dueAt, context.Now));
                    if (!opening)
                    {
                        Event(incident, TimelineKind.Plan, $"Plan step added: {step.Title} ({step.Owner.Name()}, due {Time(dueAt)}).");
                    }
                }
            }
        }

        private void Event(IncidentState incident, TimelineKind kind, string text) =>
            _timeline.Add(new TimelineEntry(incident.Key, context.Now, Actor, kind.Name(), text));

        private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    }
}
