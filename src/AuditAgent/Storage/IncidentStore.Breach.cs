using AuditAgent.Core.Breach;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>The breach decision on an incident (GDPR Art. 33/34): every decision kept, the latest on the incident.</summary>
public sealed partial class IncidentStore
{

    /// <summary>
    /// Records a privacy officer's decision (checked by <see cref="BreachRules"/> before): a new row beside the
    /// earlier ones, the incident's awareness and decision time, a timeline entry that says what changed, and
    /// the breach.assessed event.
    /// </summary>
    public async Task RecordAssessmentAsync(long id, BreachAssessment a, Actor by, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(a);
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await StatusAsync(c, tx, id, by.SeenVersion, ct);
        var earlier = await c.QueryFirstOrDefaultAsync<(string DecidedBy, DateTimeOffset DecidedAt)?>(database.Command(
            "SELECT decided_by, decided_at FROM breach_assessments WHERE incident_id = @id ORDER BY id DESC LIMIT 1", new { id }, tx, ct));
        await c.ExecuteAsync(database.Command(
            """
            INSERT INTO breach_assessments (incident_id, risk, reasons, notify_authority, no_notify_rationale, tell_subjects, ground, ground_detail,
                aware_at, aware_change_reason, delay_reasons, notified_at, notification_reference, decided_by, decided_at)
            VALUES (@id, @Risk, @Reasons, @NotifyAuthority, @NoNotifyRationale, @TellSubjects, @Ground, @GroundDetail,
                @AwareAt, @AwareChangeReason, @DelayReasons, @NotifiedAt, @NotificationReference, @by, @now)
            """,
            new
            {
                id, Risk = a.Risk.Name(), a.Reasons, a.NotifyAuthority, a.NoNotifyRationale, TellSubjects = a.TellSubjects.Name(), Ground = a.Ground?.Name(), a.GroundDetail,
                a.AwareAt, a.AwareChangeReason, a.DelayReasons, a.NotifiedAt, a.NotificationReference, by = by.Name, now,
            },
            tx, ct));
        await c.ExecuteAsync(database.Command(
            "UPDATE incidents SET aware_at = @AwareAt, decided_at = @now, updated_at = @now WHERE id = @id", new { a.AwareAt, now, id }, tx, ct));
        var text = (earlier is { } e ? $"Breach decision changed by {by.Name} (the one by {e.DecidedBy} of {e.DecidedAt:yyyy-MM-dd HH:mm} UTC stays in the record): " : $"Breach decision by {by.Name}: ")
            + BreachRules.Summary(a)
            + (a.AwareChangeReason is { Length: > 0 } moved ? $" Aware since {a.AwareAt:yyyy-MM-dd HH:mm} UTC: {moved}." : "")
            + (a.DelayReasons is { Length: > 0 } delay ? $" Reasons for the delay: {delay}." : "");
        await AddEventAsync(c, tx, id, now, by.Name, TimelineKind.Assessment.Name(), text, ct);
        // The plan's "assess and record the breach" step is what this decision does.
        await CompleteStepIfTodoAsync(c, tx, id, current, Core.Playbooks.DefaultPlaybook.AssessBreach, by.Name, $"Step done: {by.Name} recorded the breach decision.", now, ct);

        await events.AppendIncidentEventsAsync(c, tx, [new IncidentEvent(id, EventTypes.BreachAssessed, new
        {
            risk = a.Risk.Name(), notifyAuthority = a.NotifyAuthority, tellSubjects = a.TellSubjects.Name(), awareAt = a.AwareAt,
            notificationDueAt = BreachRules.DeadlineOf(a.AwareAt), notifiedAt = a.NotifiedAt, changed = earlier is not null,
        })], now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Every decision on the incident, the first first.</summary>
    public async Task<IReadOnlyList<AssessmentRow>> AssessmentsAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<AssessmentRow>(database.Command(
            "SELECT * FROM breach_assessments WHERE incident_id = @id ORDER BY id", new { id }, ct: ct))).ToList();
    }
}

/// <summary>A breach decision as stored.</summary>
public sealed record AssessmentRow
{
    public long Id { get; init; }

    public long IncidentId { get; init; }

    public string Risk { get; init; } = "";

    public string Reasons { get; init; } = "";

    public bool NotifyAuthority { get; init; }

    public string? NoNotifyRationale { get; init; }

    public string TellSubjects { get; init; } = "";

    public string? Ground { get; init; }

    public string? GroundDetail { get; init; }

    public DateTimeOffset AwareAt { get; init; }

    public string? AwareChangeReason { get; init; }

    public string? DelayReasons { get; init; }

    public DateTimeOffset? NotifiedAt { get; init; }

    public string? NotificationReference { get; init; }

    public string DecidedBy { get; init; } = "";

    public DateTimeOffset DecidedAt { get; init; }

    public BreachAssessment ToAssessment() => new(
        BreachRules.TryParseRisk(Risk, out var risk) ? risk : RiskLevel.HighRisk, Reasons, NotifyAuthority, NoNotifyRationale,
        BreachRules.TryParseNotice(TellSubjects, out var notice) ? notice : SubjectNotice.Yes, BreachRules.TryParseGround(Ground, out var g) ? g : null, GroundDetail,
        AwareAt, AwareChangeReason, DelayReasons, NotifiedAt, NotificationReference);
}
