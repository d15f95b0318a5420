using AuditAgent.Core.Incidents;

namespace AuditAgent.Core.Events;

/// <summary>
/// The names of the events AuditAgent publishes (docs/events.md), and which timeline entry of an incident
/// is which event: every change a person would want to hear of, and nothing else.
/// </summary>
public static class EventTypes
{
    /// <summary>The version of the payload's shape; a consumer checks it before reading.</summary>
    public const int SchemaVersion = 1;

    public const string IncidentOpened = "incident.opened";
    public const string IncidentReExposed = "incident.reexposed";
    public const string IncidentSeverityRaised = "incident.severity_raised";
    public const string IncidentAcknowledged = "incident.acknowledged";
    public const string IncidentAssigned = "incident.assigned";
    public const string StepDone = "step.done";
    public const string StepSkipped = "step.skipped";
    public const string IncidentResolved = "incident.resolved";
    public const string IncidentFalsePositive = "incident.false_positive";
    public const string IncidentReopened = "incident.reopened";
    public const string ScanFailed = "scan.failed";

    /// <summary>An open incident's 72-hour notification clock has 24 hours left, then again at 6 hours.</summary>
    public const string NotificationDeadlineNear = "notification.deadline_near";

    /// <summary>A privacy officer recorded or changed the breach decision (`details` has the risk and what is notified).</summary>
    public const string BreachAssessed = "breach.assessed";

    /// <summary>A plan step still to do is past its due time (once per step and due time).</summary>
    public const string StepOverdue = "step.overdue";

    /// <summary>A mailbox has failed in every scan for a day (`details.mailbox`, `since`, `error`), once until it recovers.</summary>
    public const string MailboxFailing = "mailbox.failing";

    /// <summary>A clustered agent stopped checking in (`details.agent`, `lastSeenAt`); its mailboxes went to the others.</summary>
    public const string AgentLost = "agent.lost";

    /// <summary>A recipient (or a colleague) replied to all, exposing the incident's list again (`incident.repliesToAll` counts them).</summary>
    public const string IncidentReplyAll = "incident.reply_all";

    /// <summary>Every type, in the order docs/events.md lists them.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        IncidentOpened, IncidentReExposed, IncidentSeverityRaised, IncidentAcknowledged, IncidentAssigned, StepDone, StepSkipped,
        IncidentResolved, IncidentFalsePositive, IncidentReopened, ScanFailed, NotificationDeadlineNear, BreachAssessed, StepOverdue, MailboxFailing, AgentLost, IncidentReplyAll,
    ];

    /// <summary>The event of an incident's timeline entry (by its stored kind), or null for entries that are not one.</summary>
    /// <param name="stepStatus">For a step entry: the status the step reached.</param>
    public static string? ForTimeline(string kind, string? stepStatus = null) => kind switch
    {
        _ when kind == TimelineKind.Detected.Name() => IncidentOpened,
        _ when kind == TimelineKind.ReExposure.Name() => IncidentReExposed,
        _ when kind == TimelineKind.Severity.Name() => IncidentSeverityRaised,
        _ when kind == TimelineKind.Acknowledged.Name() => IncidentAcknowledged,
        _ when kind == TimelineKind.Assigned.Name() => IncidentAssigned,
        _ when kind == TimelineKind.Step.Name() => stepStatus == StepStatus.Skipped.Name() ? StepSkipped : StepDone,
        _ when kind == TimelineKind.Resolved.Name() => IncidentResolved,
        _ when kind == TimelineKind.FalsePositive.Name() => IncidentFalsePositive,
        _ when kind == TimelineKind.Reopened.Name() => IncidentReopened,
        _ when kind == TimelineKind.ReplyAll.Name() => IncidentReplyAll,
        _ => null,
    };
}
