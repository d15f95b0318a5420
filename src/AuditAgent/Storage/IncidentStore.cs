using System.Data.Common;
using System.Text.Json;
using AuditAgent.Core.Detection;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>What the incident engine needs from storage for one pass.</summary>
public sealed record IncidentInputs(
    IReadOnlyList<IncidentState> Incidents,
    IReadOnlyDictionary<string, KnownMessage> KnownMessages,
    IReadOnlyList<ExposureInput> Findings,
    IReadOnlyList<BccMessageInput> BccMessages,
    IReadOnlyList<AllowlistEntry> Allowlist)
{
    /// <summary>Replies to all from outside that the reply watch recorded and no pass has processed yet.</summary>
    public IReadOnlyList<ReplyAllInput> ReplyAlls { get; init; } = [];
}

/// <summary>Incidents, their plans and timelines, and the allowlist.</summary>
public sealed partial class IncidentStore(Database database, EventStore events)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Loads unprocessed findings and the incidents they may join, lets <paramref name="decide"/> (the
    /// pure engine) decide, and writes every outcome in the same transaction: a finding is processed
    /// exactly once, however often this runs or wherever it stops.
    /// </summary>
    /// <param name="lookBehind">How far before the oldest new finding an incident can still be joined, re-exposed or repeated.</param>
    public async Task<IncidentRunResult?> ProcessAsync(Func<IncidentInputs, IncidentRunResult> decide, TimeSpan lookBehind, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decide);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Two agents must not turn the same findings into incidents twice.
        await database.LockAsync(connection, tx, LockKeys.IncidentProcessing, ct);
        var inputs = await LoadAsync(connection, tx, lookBehind, ct);
        if (inputs.Findings.Count == 0 && inputs.BccMessages.Count == 0 && inputs.ReplyAlls.Count == 0)
        {
            return null;
        }

        var result = decide(inputs);
        await SaveAsync(connection, tx, result, now, ct);
        await tx.CommitAsync(ct);
        return result;
    }

    private async Task<IncidentInputs> LoadAsync(DbConnection c, DbTransaction tx, TimeSpan lookBehind, CancellationToken ct)
    {
        var findings = (await c.QueryAsync<FindingInputRow>(database.Command("""
            SELECT f.id, m.address AS mailbox_address, f.internet_message_id, f.sender_address, f.subject, f.sent_at, f.detected_at,
                   f.sent_as, f.conversation_id, f.sensitive
            FROM findings f JOIN mailboxes m ON m.id = f.mailbox_id
            WHERE f.processed_at IS NULL
            """, tx: tx, ct: ct))).ToList();
        var recipients = (await c.QueryAsync<RecipientRow>(database.Command("""
            SELECT r.finding_id, r.recipient_key AS address, NULL AS name, r.field
            FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id
            WHERE f.processed_at IS NULL
            """, tx: tx, ct: ct))).ToLookup(r => r.FindingId);
        var bcc = (await c.QueryAsync<BccRow>(database.Command("SELECT id, sender_address, sent_at, recipients FROM bcc_messages WHERE processed_at IS NULL", tx: tx, ct: ct))).ToList();
        var replies = (await c.QueryAsync<ReplyRow>(database.Command(
            "SELECT id, incident_id, replier_domain, sent_at, reached FROM reply_all_messages WHERE processed_at IS NULL", tx: tx, ct: ct)))
            .Select(r => new ReplyAllInput(r.Id, r.IncidentId, r.ReplierDomain, r.SentAt, r.Reached)).ToList();

        // Times that cannot be true (stored by older versions) are kept out of the windows: the engine
        // sets those findings aside, and one of them must not stretch (or break) the horizon.
        var times = findings.Select(f => f.SentAt ?? f.DetectedAt).Concat(bcc.Select(b => b.SentAt)).Where(SentTimes.IsAfterEarliest).ToList();
        var horizon = times.Count == 0 ? DateTimeOffset.MaxValue : times.Min() - lookBehind;
        var incidents = await LoadIncidentsAsync(c, tx, horizon, ct);

        var messageIds = findings.Where(f => f.InternetMessageId is not null).Select(f => f.InternetMessageId!).Distinct().ToList();
        var known = new Dictionary<string, KnownMessage>(StringComparer.Ordinal);
        foreach (var chunk in messageIds.Chunk(500))
        {
            foreach (var row in await c.QueryAsync<KnownRow>(database.Command(
                $"SELECT internet_message_id, incident_id, suppression_reason FROM findings WHERE processed_at IS NOT NULL AND {database.InList("internet_message_id", "Ids")}",
                new { Ids = chunk }, tx, ct)))
            {
                known.TryAdd(row.InternetMessageId, new KnownMessage(row.IncidentId, row.SuppressionReason));
            }
        }

        var allowlist = await ListAllowlistAsync(c, tx, ct);
        return new IncidentInputs(
            incidents,
            known,
            findings.Select(f => new ExposureInput(
                f.Id, f.MailboxAddress, f.InternetMessageId, f.SenderAddress, f.Subject, f.SentAt ?? f.DetectedAt, f.DetectedAt,
                recipients[f.Id].Select(r => new ExposedRecipient(r.Address, r.Name, Enum.Parse<RecipientField>(r.Field))).ToList(),
                f.SentAs, f.ConversationId, SensitiveMatch.ParseStored(f.Sensitive))).ToList(),
            bcc.Select(b => new BccMessageInput(b.Id, b.SenderAddress, b.SentAt, b.Recipients.Split('\n', StringSplitOptions.RemoveEmptyEntries))).ToList(),
            allowlist)
        {
            ReplyAlls = replies,
        };
    }

    /// <summary>Incidents that new findings may join, re-expose or repeat: those active since <paramref name="horizon"/>.</summary>
    private async Task<List<IncidentState>> LoadIncidentsAsync(DbConnection c, DbTransaction tx, DateTimeOffset horizon, CancellationToken ct)
    {
        var rows = (await c.QueryAsync<IncidentRow>(database.Command(
            $"SELECT * FROM incidents WHERE last_blast_at >= @horizon OR {SqlFragments.OpenIncident()}",
            new { horizon }, tx, ct))).ToList();
        if (rows.Count == 0)
        {
            return [];
        }

        var ids = rows.Select(r => r.Id).ToList();
        var exposed = new List<IncidentRecipientRow>();
        var steps = new List<(long IncidentId, string StepKey)>();
        var conversations = new List<(long IncidentId, string ConversationId)>();
        foreach (var chunk in ids.Chunk(500))
        {
            conversations.AddRange(await c.QueryAsync<(long, string)>(database.Command(
                $"SELECT DISTINCT incident_id, conversation_id FROM findings WHERE {database.InList("incident_id", "chunk")} AND conversation_id IS NOT NULL AND {SqlFragments.BlastOrCopy()}",
                new { chunk }, tx, ct)));
            exposed.AddRange(await c.QueryAsync<IncidentRecipientRow>(database.Command(
                $"""
                SELECT f.incident_id, r.recipient_key AS address, NULL AS name, r.field
                FROM findings f JOIN exposed_recipients r ON r.finding_id = f.id
                WHERE {database.InList("f.incident_id", "chunk")} AND {SqlFragments.ExposingRole("f.role")}
                ORDER BY f.sent_at, f.id
                """,
                new { chunk }, tx, ct)));
            steps.AddRange(await c.QueryAsync<(long, string)>(database.Command(
                $"SELECT incident_id, step_key FROM plan_steps WHERE {database.InList("incident_id", "chunk")}",
                new { chunk }, tx, ct)));
        }

        var byIncident = exposed.ToLookup(r => r.IncidentId);
        var stepKeys = steps.ToLookup(s => s.IncidentId, s => s.StepKey);
        var conversationIds = conversations.ToLookup(x => x.IncidentId, x => x.ConversationId);
        return rows.Select(r =>
        {
            var state = new IncidentState
            {
                Key = r.Id,
                SenderAddress = r.SenderAddress,
                SubjectKey = r.SubjectKey,
                Subject = r.Subject,
                FirstSentAt = r.FirstSentAt,
                LastBlastAt = r.LastBlastAt,
                DetectedAt = r.DetectedAt,
                Status = IncidentLifecycle.TryParse(r.Status, out var status) ? status : IncidentStatus.New,
                Severity = SeverityNames.TryParse(r.Severity, out var severity) ? severity : Severity.Low,
                ReExposed = r.ReExposed,
                RepeatSender = r.RepeatSender,
                BlastMessages = r.BlastMessages,
                Copies = r.Copies,
                Notes = JsonSerializer.Deserialize<List<string>>(r.Notes, Json) ?? [],
                StepKeys = stepKeys[r.Id].ToHashSet(StringComparer.Ordinal),
                SentAs = r.SentAs,
                ReplyAllCount = r.ReplyAllCount,
                ConversationIds = conversationIds[r.Id].ToHashSet(StringComparer.Ordinal),
                Sensitive = new SortedDictionary<SensitiveCategory, string>(SensitiveMatch.ParseStored(r.Sensitive).ToDictionary(m => m.Category, m => m.Reason)),
            };
            foreach (var x in byIncident[r.Id])
            {
                state.Exposed.TryAdd(x.Address, new ExposedRecipient(x.Address, x.Name, Enum.Parse<RecipientField>(x.Field)));
            }

            return state;
        }).ToList();
    }

    private async Task SaveAsync(DbConnection c, DbTransaction tx, IncidentRunResult result, DateTimeOffset now, CancellationToken ct)
    {
        var ids = new Dictionary<long, long>();
        foreach (var incident in result.Changed.OrderByDescending(i => i.Key))
        {
            var values = new
            {
                Status = incident.Status.Name(),
                Severity = incident.Severity.Name(),
                incident.SenderAddress,
                incident.Subject,
                incident.SubjectKey,
                incident.FirstSentAt,
                incident.LastBlastAt,
                incident.DetectedAt,
                ExposedCount = incident.Exposed.Count,
                incident.DomainCount,
                incident.PersonalCount,
                incident.BlastMessages,
                incident.Copies,
                incident.ReExposed,
                incident.RepeatSender,
                incident.SentAs,
                incident.ReplyAllCount,
                Sensitive = incident.Sensitive.Count == 0 ? null : string.Join('\n', incident.Sensitive.Select(x => new SensitiveMatch(x.Key, x.Value).Stored)),
                Reasons = JsonSerializer.Serialize(incident.Reasons, Json),
                Notes = JsonSerializer.Serialize(incident.Notes, Json),
                Now = now,
                Id = incident.Key,
            };
            if (incident.IsNew)
            {
                ids[incident.Key] = await c.ExecuteScalarAsync<long>(database.Command(
                    """
                    INSERT INTO incidents (status, severity, sender_address, subject, subject_key, first_sent_at, last_blast_at, detected_at,
                                           exposed_count, domain_count, personal_count, blast_messages, copies, re_exposed, repeat_sender,
                                           reasons, notes, updated_at, sent_as, reply_all_count, sensitive)
                    VALUES (@Status, @Severity, @SenderAddress, @Subject, @SubjectKey, @FirstSentAt, @LastBlastAt, @DetectedAt,
                            @ExposedCount, @DomainCount, @PersonalCount, @BlastMessages, @Copies, @ReExposed, @RepeatSender,
                            @Reasons, @Notes, @Now, @SentAs, @ReplyAllCount, @Sensitive)
                    RETURNING id
                    """,
                    values, tx, ct));
            }
            else
            {
                ids[incident.Key] = incident.Key;
                await c.ExecuteAsync(database.Command(
                    $"""
                    UPDATE incidents
                    SET status = @Status, severity = @Severity, first_sent_at = @FirstSentAt, last_blast_at = @LastBlastAt,
                        exposed_count = @ExposedCount, domain_count = @DomainCount, personal_count = @PersonalCount,
                        blast_messages = @BlastMessages, copies = @Copies, re_exposed = @ReExposed, repeat_sender = @RepeatSender,
                        reasons = @Reasons, notes = @Notes, updated_at = @Now,
                        sender_address = @SenderAddress, sent_as = @SentAs, reply_all_count = @ReplyAllCount, sensitive = @Sensitive,
                        closed_at = CASE WHEN {SqlFragments.ClosedIncident("@Status")} THEN closed_at ELSE NULL END
                    WHERE id = @Id
                    """,
                    values, tx, ct));
            }
        }

        long? Id(long? key) => key is { } k ? ids.GetValueOrDefault(k, k) : null;

        await c.ExecuteAsync(database.Command(
            "UPDATE findings SET processed_at = @Now, incident_id = @IncidentId, role = @Role, suppression_reason = @SuppressionReason WHERE id = @FindingId",
            result.Findings.Select(f => new { Now = now, IncidentId = Id(f.IncidentKey), Role = RoleName(f.Role), f.SuppressionReason, f.FindingId }), tx, ct));
        await c.ExecuteAsync(database.Command(
            "UPDATE bcc_messages SET processed_at = @Now, incident_id = @IncidentId WHERE id = @Id",
            result.BccMessages.Select(b => new { Now = now, IncidentId = Id(b.IncidentKey), Id = b.BccMessageId }), tx, ct));
        await c.ExecuteAsync(database.Command(
            "UPDATE reply_all_messages SET processed_at = @Now WHERE id = @Id",
            result.ReplyAlls.Select(r => new { Now = now, Id = r.ReplyId }), tx, ct));
        await TimelineChain.AppendAsync(c, tx, database, result.Timeline.Select(e => new TimelineAppend(Id(e.IncidentKey)!.Value, e.At, e.Actor, e.Kind, e.Text)), ct);
        await c.ExecuteAsync(database.Command(
            """
            INSERT INTO plan_steps (incident_id, step_key, position, title, why, owner, instructions, condition, due_at, added_at)
            VALUES (@IncidentId, @Key, @Position, @Title, @Why, @Owner, @Instructions, @Condition, @DueAt, @AddedAt)
            """,
            result.Steps.Select(s => new
            {
                IncidentId = Id(s.IncidentKey), s.Step.Key, s.Position, s.Step.Title, s.Step.Why, Owner = s.Step.Owner.Key(),
                s.Step.Instructions, Condition = s.Step.When.Describe(), s.DueAt, s.AddedAt,
            }), tx, ct));

        // Last, so that each event's snapshot shows the incident as this run leaves it, plan included.
        await events.AppendIncidentEventsAsync(c, tx,
            [.. result.Timeline.Select(e => (Id: Id(e.IncidentKey), Type: EventTypes.ForTimeline(e.Kind))).Where(e => e.Id is not null && e.Type is not null).Select(e => (e.Id!.Value, e.Type!))],
            now, ct);
    }

    /// <summary>
    /// Records an answer from an escalation mail, once per link (<paramref name="nonce"/>), in one transaction:
    /// the answer itself, its step marked done (when it has one and it is still to do), the timeline entry,
    /// the review flag of "authorised", and the step's event. The actor is the recipient, via mail.
    /// </summary>
    public async Task<AnswerResult> AnswerFromMailAsync(long id, MailAnswer answer, string? detail, string recipient, string nonce, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await StatusAsync(c, tx, id, null, ct);
        if (await AnswerOfNonceAsync(c, tx, nonce, ct) is { } used)
        {
            return used;
        }

        if (!current.IsOpen())
        {
            return new AnswerResult(AnswerOutcome.Closed, answer.Name(), recipient, now, Status: current.Name());
        }

        await c.ExecuteAsync(database.Command(
            "INSERT INTO mail_answers (nonce, incident_id, answer, recipient, detail, at) VALUES (@nonce, @id, @answer, @recipient, @detail, @now)",
            new { nonce, id, answer = answer.Name(), recipient, detail, now }, tx, ct));
        var by = $"{recipient} (via mail)";
        var text = answer.Timeline(recipient, detail);
        var outcome = AnswerOutcome.Recorded;
        string? markedBy = null;
        if (answer.Step() is { } stepKey
            && await c.QuerySingleOrDefaultAsync<(string Title, string Status, string? StatusBy)?>(database.Command(
                "SELECT title, status, status_by FROM plan_steps WHERE incident_id = @id AND step_key = @stepKey", new { id, stepKey }, tx, ct)) is { } step)
        {
            if (step.Status == StepStatus.Todo.Name())
            {
                await MarkStepAsync(c, tx, id, current, stepKey, StepStatus.Done.Name(), by, text, text, now, ct);
            }
            else
            {
                (outcome, markedBy) = (AnswerOutcome.RecordedStepAlreadyMarked, step.StatusBy);
                await AddEventAsync(c, tx, id, now, by, TimelineKind.Answer.Name(), text, ct);
            }
        }
        else
        {
            await AddEventAsync(c, tx, id, now, by, TimelineKind.Answer.Name(), text, ct);
        }

        if (answer is MailAnswer.Authorised or MailAnswer.RecipientsAgreed)
        {
            var note = answer == MailAnswer.Authorised ? detail : $"the sender says the recipients agreed to share their addresses: {detail}";
            await c.ExecuteAsync(database.Command("UPDATE incidents SET review_note = @note WHERE id = @id", new { note, id }, tx, ct));
        }

        if (answer.IsFromSender())
        {
            await c.ExecuteAsync(database.Command("UPDATE incidents SET sender_answer = @a WHERE id = @id", new { a = answer.Name(), id }, tx, ct));
        }

        if (answer == MailAnswer.NotMe)
        {
            await SuspectCompromiseAsync(c, tx, id, now, ct);
        }

        await c.ExecuteAsync(database.Command("UPDATE incidents SET updated_at = @now WHERE id = @id", new { now, id }, tx, ct));
        await tx.CommitAsync(ct);
        return new AnswerResult(outcome, answer.Name(), recipient, now, markedBy);
    }

    /// <summary>"I did not send this": severity to critical (an event), and a step to check the account's sign-ins, due in four hours.</summary>
    private async Task SuspectCompromiseAsync(DbConnection c, DbTransaction tx, long id, DateTimeOffset now, CancellationToken ct)
    {
        var step = MailAnswers.CheckSignIns;
        var positions = (await c.QueryAsync<(string Key, int Position)>(database.Command(
            "SELECT step_key, position FROM plan_steps WHERE incident_id = @id", new { id }, tx, ct))).ToList();
        if (!positions.Any(p => p.Key == step.Key))
        {
            await AddCheckSignInsAsync(c, tx, id, step, positions.Count == 0 ? 1 : positions.Max(p => p.Position) + 1, now, ct);
        }

        var severity = await c.ExecuteScalarAsync<string>(database.Command("SELECT severity FROM incidents WHERE id = @id", new { id }, tx, ct));
        if (severity != Severity.Critical.Name())
        {
            await c.ExecuteAsync(database.Command("UPDATE incidents SET severity = @critical WHERE id = @id", new { critical = Severity.Critical.Name(), id }, tx, ct));
            await AddEventAsync(c, tx, id, now, "AuditAgent", TimelineKind.Severity.Name(),
                $"Severity raised from {severity} to critical: the sender says they did not send the message.", ct);
            await PublishAsync(c, tx, id, EventTypes.IncidentSeverityRaised, now, ct); // last: its snapshot shows the new step
        }
    }

    private async Task AddCheckSignInsAsync(DbConnection c, DbTransaction tx, long id, PlaybookStepText step, int position, DateTimeOffset now, CancellationToken ct)
    {
        await c.ExecuteAsync(database.Command(
            """
            INSERT INTO plan_steps (incident_id, step_key, position, title, why, owner, instructions, condition, due_at, added_at)
            VALUES (@id, @Key, @position, @Title, @Why, @Owner, @Instructions, 'the sender said they did not send it', @due, @now)
            """,
            new { id, step.Key, position, step.Title, step.Why, Owner = OwnerRole.Security.Key(), step.Instructions, due = now.AddHours(4), now }, tx, ct));
        await AddEventAsync(c, tx, id, now, "AuditAgent", TimelineKind.Plan.Name(), $"Step added: {step.Title} (security, due in 4 hours).", ct);
    }

    /// <summary>The sender was asked (Notifications:AskSender); when, so that a missing answer can be noticed.</summary>
    public async Task MarkSenderAskedAsync(long id, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command("UPDATE incidents SET sender_asked_at = @now WHERE id = @id AND sender_asked_at IS NULL", new { id, now }, ct: ct));
    }

    /// <summary>Open incidents whose sender was asked before <paramref name="askedBefore"/> and never answered: the silence is recorded, once. Returns their ids.</summary>
    public async Task<IReadOnlyList<long>> RecordUnansweredAsync(DateTimeOffset askedBefore, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var ids = (await c.QueryAsync<long>(database.Command(
            $"SELECT id FROM incidents WHERE {SqlFragments.OpenIncident()} AND sender_asked_at < @askedBefore AND sender_answer IS NULL",
            new { askedBefore }, tx, ct))).ToList();
        foreach (var id in ids)
        {
            await c.ExecuteAsync(database.Command("UPDATE incidents SET sender_answer = 'no-answer' WHERE id = @id", new { id }, tx, ct));
            await AddEventAsync(c, tx, id, now, "AuditAgent", TimelineKind.Answer.Name(), "The sender has not answered the question about this message in time.", ct);
        }

        await tx.CommitAsync(ct);
        return ids;
    }

    /// <summary>What the link with this nonce recorded, if it was used.</summary>
    public async Task<AnswerResult?> AnswerOfNonceAsync(string nonce, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await AnswerOfNonceAsync(c, null, nonce, ct);
    }

    private async Task<AnswerResult?> AnswerOfNonceAsync(DbConnection c, DbTransaction? tx, string nonce, CancellationToken ct)
    {
        var used = await c.QuerySingleOrDefaultAsync<(string Answer, string Recipient, DateTimeOffset At)?>(database.Command(
            "SELECT answer, recipient, at FROM mail_answers WHERE nonce = @nonce", new { nonce }, tx, ct));
        return used is { } u ? new AnswerResult(AnswerOutcome.AlreadyUsed, u.Answer, u.Recipient, u.At) : null;
    }


    /// <summary>Moves an incident through its lifecycle; the timeline records who, when and why.</summary>
    /// <param name="allowlist">For a false positive: an allowlist entry added in the same step.</param>
    public async Task<IncidentStatus> ChangeStatusAsync(long id, IncidentAction action, Actor actor, string? note, AllowlistRequest? allowlist, DateTimeOffset now, CancellationToken ct)
    {
        var by = actor.Name;
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await StatusAsync(c, tx, id, actor.SeenVersion, ct);
        var next = IncidentLifecycle.Apply(current, action);
        await c.ExecuteAsync(database.Command(
            "UPDATE incidents SET status = @Status, closed_at = @ClosedAt, updated_at = @now WHERE id = @id",
            new { Status = next.Name(), ClosedAt = next.IsOpen() ? (DateTimeOffset?)null : now, now, id }, tx, ct));
        var verb = action switch
        {
            IncidentAction.Acknowledge => "Acknowledged",
            IncidentAction.StartRemediation => "Remediation started",
            IncidentAction.Resolve => "Resolved",
            IncidentAction.MarkFalsePositive => "Marked as a false positive",
            _ => "Reopened",
        };
        var kind = TimelineKinds.For(action, next).Name();
        await AddEventAsync(c, tx, id, now, by, kind, $"{verb} by {by}" + (note is null ? "." : $": {note}"), ct);
        await PublishAsync(c, tx, id, EventTypes.ForTimeline(kind), now, ct);
        if (allowlist is not null)
        {
            var entry = await AddAllowlistAsync(c, tx, allowlist.Kind, allowlist.Value, by, allowlist.Reason, allowlist.ExpiresAt, now, ct);
            await AddEventAsync(c, tx, id, now, by, TimelineKind.Allowlist.Name(),
                $"Allowlisted {allowlist.Kind.ToString().ToLowerInvariant()} {allowlist.Value} (entry {entry}): {allowlist.Reason}"
                + (allowlist.ExpiresAt is { } e ? $", until {e.UtcDateTime:yyyy-MM-dd}." : "."), ct);
        }

        await tx.CommitAsync(ct);
        return next;
    }

    /// <summary>Records that someone read the exposed addresses, and why, before they are shown.</summary>
    public async Task RecordRevealAsync(long id, Actor actor, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await StatusAsync(c, tx, id, null, ct);
        await AddEventAsync(c, tx, id, now, actor.Name, TimelineKind.Revealed.Name(), $"Exposed recipients revealed to {actor.Name}: {reason}", ct);
        await tx.CommitAsync(ct);
    }

    public async Task AssignAsync(long id, string assignee, Actor actor, string? note, DateTimeOffset now, CancellationToken ct)
    {
        var by = actor.Name;
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await StatusAsync(c, tx, id, actor.SeenVersion, ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE incidents SET assignee = @assignee, updated_at = @now WHERE id = @id", new { assignee, now, id }, tx, ct));
        await AddEventAsync(c, tx, id, now, by, TimelineKind.Assigned.Name(), $"Assigned to {assignee} by {by}" + (note is null ? "." : $": {note}"), ct);
        await PublishAsync(c, tx, id, EventTypes.IncidentAssigned, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Marks a plan step done or skipped; the first one moves a new or acknowledged incident to remediating.</summary>
    public async Task SetStepAsync(long id, string stepKey, string status, Actor actor, string? note, DateTimeOffset now, CancellationToken ct)
    {
        var by = actor.Name;
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await StatusAsync(c, tx, id, actor.SeenVersion, ct);
        if (!current.IsOpen())
        {
            throw new InvalidTransitionException($"incident {id} is {current.Name()}; reopen it before changing its plan.");
        }

        var step = await c.QuerySingleOrDefaultAsync<(string Title, string Status, string? StatusBy)?>(database.Command(
            "SELECT title, status, status_by FROM plan_steps WHERE incident_id = @id AND step_key = @stepKey",
            new { id, stepKey }, tx, ct));
        if (step is null)
        {
            var keys = await c.QueryAsync<string>(database.Command(
                "SELECT step_key FROM plan_steps WHERE incident_id = @id ORDER BY position", new { id }, tx, ct));
            throw new NotFoundException($"incident {id} has no plan step '{stepKey}'; its steps are: {string.Join(", ", keys)}.");
        }

        if (step.Value.Status == status)
        {
            throw new InvalidTransitionException($"step '{stepKey}' of incident {id} is already {status} (by {step.Value.StatusBy}).");
        }

        await MarkStepAsync(c, tx, id, current, stepKey, status, by, $"Step '{step.Value.Title}' marked {status} by {by}" + (note is null ? "." : $": {note}"), note, now, ct);
        await c.ExecuteAsync(database.Command("UPDATE incidents SET updated_at = @now WHERE id = @id", new { now, id }, tx, ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>What the agent's own action did for the plan: the step marked done when the incident is open and the step still to do (someone may have marked it already).</summary>
    private async Task CompleteStepIfTodoAsync(DbConnection c, DbTransaction tx, long id, IncidentStatus current, string stepKey, string by, string text, DateTimeOffset now, CancellationToken ct)
    {
        if (current.IsOpen() && await c.QuerySingleOrDefaultAsync<string?>(database.Command(
            "SELECT status FROM plan_steps WHERE incident_id = @id AND step_key = @stepKey", new { id, stepKey }, tx, ct)) == StepStatus.Todo.Name())
        {
            await MarkStepAsync(c, tx, id, current, stepKey, StepStatus.Done.Name(), by, text, null, now, ct);
        }
    }

    /// <summary>A step marked, its timeline entry, remediation started when it was the first, and the step's event.</summary>
    private async Task MarkStepAsync(DbConnection c, DbTransaction tx, long id, IncidentStatus current, string stepKey, string status, string by, string text, string? note, DateTimeOffset now, CancellationToken ct)
    {
        await c.ExecuteAsync(database.Command(
            "UPDATE plan_steps SET status = @status, status_by = @by, status_at = @now, note = @note WHERE incident_id = @id AND step_key = @stepKey",
            new { status, by, now, note, id, stepKey }, tx, ct));
        await AddEventAsync(c, tx, id, now, by, TimelineKind.Step.Name(), text, ct);
        if (current is IncidentStatus.New or IncidentStatus.Acknowledged)
        {
            await c.ExecuteAsync(database.Command(
                "UPDATE incidents SET status = @Status, updated_at = @now WHERE id = @id",
                new { Status = IncidentLifecycle.Apply(current, IncidentAction.StartRemediation).Name(), now, id }, tx, ct));
            await AddEventAsync(c, tx, id, now, by, TimelineKind.Remediating.Name(), "Remediation started: the first plan step was completed.", ct);
        }

        await PublishAsync(c, tx, id, EventTypes.ForTimeline(TimelineKind.Step.Name(), status), now, ct);
    }

    public async Task<long> AddAllowlistAsync(AllowlistRequest request, string by, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var id = await AddAllowlistAsync(c, tx, request.Kind, request.Value, by, request.Reason, request.ExpiresAt, now, ct);
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task RemoveAllowlistAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var removed = await c.ExecuteAsync(database.Command(
            "DELETE FROM allowlist WHERE id = @id", new { id }, ct: ct));
        if (removed == 0)
        {
            throw new NotFoundException($"there is no allowlist entry {id}.");
        }
    }

    /// <summary>
    /// The incident's status, its row locked for this transaction (PostgreSQL; SQLite's write transactions
    /// are serial already); with <paramref name="seen"/>, refuses when the timeline has moved on since.
    /// </summary>
    private async Task<IncidentStatus> StatusAsync(DbConnection c, DbTransaction tx, long id, long? seen, CancellationToken ct)
    {
        var status = await c.QuerySingleOrDefaultAsync<string?>(database.Command(
            $"SELECT status FROM incidents WHERE id = @id {database.ForUpdate}", new { id }, tx, ct));
        if (status is null || !IncidentLifecycle.TryParse(status, out var parsed))
        {
            throw new NotFoundException($"there is no incident {id}.");
        }

        if (seen is { } version)
        {
            var latest = await c.QueryFirstOrDefaultAsync<(long Id, string Actor, DateTimeOffset At)?>(database.Command(
                "SELECT id, actor, at FROM incident_events WHERE incident_id = @id ORDER BY id DESC LIMIT 1", new { id }, tx, ct));
            if (latest is { } l && l.Id != version)
            {
                throw new IncidentChangedException(id, l.Actor, l.At);
            }
        }

        return parsed;
    }

    /// <summary>The event of a change, in the change's transaction (after its row is written, so the snapshot shows it).</summary>
    private Task PublishAsync(DbConnection c, DbTransaction tx, long id, string? type, DateTimeOffset at, CancellationToken ct) =>
        type is null ? Task.CompletedTask : events.AppendIncidentEventsAsync(c, tx, [(id, type)], at, ct);

    private Task AddEventAsync(DbConnection c, DbTransaction tx, long id, DateTimeOffset at, string actor, string kind, string text, CancellationToken ct) =>
        TimelineChain.AppendAsync(c, tx, database, [new TimelineAppend(id, at, actor, kind, text)], ct);

    internal static string? RoleName(FindingRole? role) => role switch
    {
        FindingRole.Blast => "blast",
        FindingRole.Copy => "copy",
        FindingRole.ReExposure => "re-exposure",
        FindingRole.ReplyAll => "reply-all",
        _ => null,
    };

    public async Task<IReadOnlyList<AllowlistEntry>> ListAllowlistAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await ListAllowlistAsync(c, null, ct);
    }

    private async Task<IReadOnlyList<AllowlistEntry>> ListAllowlistAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        var rows = await c.QueryAsync<AllowlistRow>(database.Command(
            "SELECT id, kind, value, added_by, reason, added_at, expires_at FROM allowlist ORDER BY id", tx: tx, ct: ct));
        return rows.Select(r => new AllowlistEntry(r.Id, Enum.Parse<AllowlistKind>(r.Kind, ignoreCase: true), r.Value, r.AddedBy, r.Reason, r.AddedAt, r.ExpiresAt)).ToList();
    }

    private async Task<long> AddAllowlistAsync(DbConnection c, DbTransaction tx, AllowlistKind kind, string value, string by, string reason, DateTimeOffset? expires, DateTimeOffset now, CancellationToken ct) =>
        await c.ExecuteScalarAsync<long>(database.Command(
            "INSERT INTO allowlist (kind, value, added_by, reason, added_at, expires_at) VALUES (@Kind, @value, @by, @reason, @now, @expires) RETURNING id",
            new { Kind = kind.ToString().ToLowerInvariant(), value, by, reason, now, expires }, tx, ct));


    private sealed record FindingInputRow
    {
        public long Id { get; init; }

        public string MailboxAddress { get; init; } = "";

        public string? InternetMessageId { get; init; }

        public string SenderAddress { get; init; } = "";

        public string? Subject { get; init; }

        public DateTimeOffset? SentAt { get; init; }

        public DateTimeOffset DetectedAt { get; init; }

        public string? SentAs { get; init; }

        public string? ConversationId { get; init; }

        public string? Sensitive { get; init; }
    }

    private sealed record ReplyRow
    {
        public long Id { get; init; }

        public long IncidentId { get; init; }

        public string ReplierDomain { get; init; } = "";

        public DateTimeOffset SentAt { get; init; }

        public int Reached { get; init; }
    }

    private sealed record BccRow
    {
        public long Id { get; init; }

        public string SenderAddress { get; init; } = "";

        public DateTimeOffset SentAt { get; init; }

        public string Recipients { get; init; } = "";
    }

    private sealed record KnownRow
    {
        public string InternetMessageId { get; init; } = "";

        public long? IncidentId { get; init; }

        public string? SuppressionReason { get; init; }
    }

    private sealed record IncidentRecipientRow
    {
        public long IncidentId { get; init; }

        public string Address { get; init; } = "";

        public string? Name { get; init; }

        public string Field { get; init; } = "";
    }

    private sealed record AllowlistRow
    {
        public long Id { get; init; }

        public string Kind { get; init; } = "";

        public string Value { get; init; } = "";

        public string AddedBy { get; init; } = "";

        public string Reason { get; init; } = "";

        public DateTimeOffset AddedAt { get; init; }

        public DateTimeOffset? ExpiresAt { get; init; }
    }
}

/// <summary>An allowlist entry to add.</summary>
public sealed record AllowlistRequest(AllowlistKind Kind, string Value, string Reason, DateTimeOffset? ExpiresAt);

/// <summary>The thing a command names does not exist.</summary>
public sealed class NotFoundException(string message) : Exception(message);

/// <summary>An action refused because the incident changed after the person looked at it.</summary>
public sealed class IncidentChangedException(long id, string by, DateTimeOffset at)
    : ExplainedException($"incident {id} was changed by {by} at {at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC after you opened it: reload it and decide again; nothing was applied.")
{
    public string ChangedBy { get; } = by;

    public DateTimeOffset ChangedAt { get; } = at;
}

/// <summary>An incident row as stored.</summary>
public sealed record IncidentRow
{
    public long Id { get; init; }

    public string Status { get; init; } = "";

    public string Severity { get; init; } = "";

    public string SenderAddress { get; init; } = "";

    public string? Subject { get; init; }

    public string SubjectKey { get; init; } = "";

    public DateTimeOffset FirstSentAt { get; init; }

    public DateTimeOffset LastBlastAt { get; init; }

    public DateTimeOffset DetectedAt { get; init; }

    public int ExposedCount { get; init; }

    public int DomainCount { get; init; }

    public int PersonalCount { get; init; }

    public int BlastMessages { get; init; }

    public int Copies { get; init; }

    public bool ReExposed { get; init; }

    public bool RepeatSender { get; init; }

    /// <summary>The address it went out as, when that was not the person (a shared mailbox, send-as).</summary>
    public string? SentAs { get; init; }

    /// <summary>Why the list is sensitive: "category&lt;TAB&gt;reason" per line, or null.</summary>
    public string? Sensitive { get; init; }

    /// <summary>The sensitive categories' keys ("health"), for events and the register.</summary>
    public IReadOnlyList<string> SensitiveCategories => SensitiveMatch.ParseStored(Sensitive).Select(m => m.Category.Key()).ToList();

    /// <summary>Replies to all that exposed the list again.</summary>
    public int ReplyAllCount { get; init; }

    public string Reasons { get; init; } = "[]";

    public string Notes { get; init; } = "[]";

    public string? Assignee { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Set when the sender's manager answered from mail that the message was authorised: the justification, waiting for an analyst.</summary>
    public string? ReviewNote { get; init; }

    /// <summary>When the sender was asked what happened (Notifications:AskSender).</summary>
    public DateTimeOffset? SenderAskedAt { get; init; }

    /// <summary>The sender's answer (mistake, recipients-agreed, not-me) or no-answer.</summary>
    public string? SenderAnswer { get; init; }

    /// <summary>The hash of the newest timeline entry: the head of the incident's chain.</summary>
    public string? ChainHead { get; init; }

    /// <summary>When the organisation became aware, as a breach decision recorded it; null: at detection.</summary>
    public DateTimeOffset? AwareAt { get; init; }

    /// <summary>When the latest breach decision was recorded; null while none is.</summary>
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>The moment the 72-hour clock runs from.</summary>
    public DateTimeOffset Awareness => AwareAt ?? DetectedAt;

    /// <summary>When the supervisory authority must have been notified (Art. 33(1)).</summary>
    public DateTimeOffset NotificationDueAt => NotificationClock.DueAt(Awareness);
}

/// <summary>What an answer from mail did.</summary>
public enum AnswerOutcome
{
    /// <summary>Recorded now (and its step marked done, when it has one).</summary>
    Recorded,

    /// <summary>Recorded now; its step had already been marked by someone else.</summary>
    RecordedStepAlreadyMarked,

    /// <summary>This link was used before: nothing changed.</summary>
    AlreadyUsed,

    /// <summary>The incident is closed: nothing changed.</summary>
    Closed,
}

/// <summary>An answer from mail: what happened, and when it was first recorded (for a second use) or what the step showed.</summary>
public sealed record AnswerResult(AnswerOutcome Outcome, string Answer, string Recipient, DateTimeOffset At, string? StepMarkedBy = null, string? Status = null);
