namespace AuditAgent.Core.Incidents;

/// <summary>
/// The names the incident records use, each written once: stored in the database, shown to people and
/// matched in queries through these (Storage builds its SQL fragments from them).
/// </summary>
public static class IncidentStatuses
{
    /// <summary>The states an incident is closed in; every other state is open.</summary>
    public static IReadOnlyList<IncidentStatus> Closed { get; } = [IncidentStatus.Resolved, IncidentStatus.FalsePositive];

    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<IncidentStatus>().Select(s => s.Name())];
}

/// <summary>The state of one plan step.</summary>
public enum StepStatus
{
    Todo,
    Done,
    Skipped,
}

public static class StepStatuses
{
    public static string Name(this StepStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>What a timeline entry records. Status changes are recorded under the status they reach.</summary>
public enum TimelineKind
{
    Detected,
    Grouped,
    Copy,
    ReExposure,
    Reopened,

    /// <summary>A follow-up that reached the exposed people properly, in Bcc.</summary>
    Remediation,
    Severity,
    Plan,
    Acknowledged,
    Assigned,
    Step,
    Remediating,
    Resolved,
    FalsePositive,
    Allowlist,

    /// <summary>A privacy officer read the exposed addresses, with the reason they gave.</summary>
    Revealed,

    /// <summary>The recipient of an escalation answered from the mail (one click, confirmed on the console).</summary>
    Answer,

    /// <summary>The apology draft was edited or approved.</summary>
    Apology,

    /// <summary>A privacy officer recorded (or changed) the breach decision: risk, notification, telling the people.</summary>
    Assessment,

    /// <summary>A data subject's request touched the incident (their address erased).</summary>
    Subject,

    /// <summary>Someone replied to all, putting the exposed list in front of everyone again.</summary>
    ReplyAll,
}

public static class TimelineKinds
{
    public static string Name(this TimelineKind kind) => kind switch
    {
        TimelineKind.ReExposure => "re-exposure",
        TimelineKind.FalsePositive => "false-positive",
        TimelineKind.ReplyAll => "reply-all",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The entry of a person's action: a reopening is recorded as one, whatever status it reaches.</summary>
    public static TimelineKind For(IncidentAction action, IncidentStatus reached) =>
        action == IncidentAction.Reopen ? TimelineKind.Reopened : For(reached);

    /// <summary>The entry of a status change.</summary>
    public static TimelineKind For(IncidentStatus status) => status switch
    {
        IncidentStatus.Acknowledged => TimelineKind.Acknowledged,
        IncidentStatus.Remediating => TimelineKind.Remediating,
        IncidentStatus.Resolved => TimelineKind.Resolved,
        IncidentStatus.FalsePositive => TimelineKind.FalsePositive,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "no change leads to this status"),
    };
}

/// <summary>GDPR Art. 33(1): the supervisory authority is notified within 72 hours of becoming aware of a breach.</summary>
public static class NotificationClock
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(72);

    /// <summary>When the notification is due, from the moment of awareness (detection, unless recorded otherwise).</summary>
    public static DateTimeOffset DueAt(DateTimeOffset awareness) => awareness + Window;
}

/// <summary>Severities from the most to the least severe: how lists are ordered.</summary>
public static class SeverityOrder
{
    public static IReadOnlyList<Severity> MostSevereFirst { get; } = [.. Enum.GetValues<Severity>().OrderDescending()];

    /// <summary>Their names, most severe first, as stored and shown.</summary>
    public static IReadOnlyList<string> NamesMostSevereFirst { get; } = [.. MostSevereFirst.Select(s => s.Name())];
}
