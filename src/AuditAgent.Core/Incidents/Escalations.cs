using AuditAgent.Core.Playbooks;

namespace AuditAgent.Core.Incidents;

/// <summary>A plan step as escalation sees it.</summary>
public sealed record StepFacts(string Key, string Title, OwnerRole Owner, DateTimeOffset DueAt, bool Open);

public sealed record EscalationFacts(long IncidentId, Severity Severity, IncidentStatus Status, bool ReExposed, IReadOnlyList<StepFacts> Steps);

/// <param name="Reason">The key that makes an escalation happen at most once: severity:high, re-exposure, overdue:STEP, up1:STEP.</param>
/// <param name="NotBefore">When it may be sent: now, or the end of quiet hours.</param>
/// <param name="Level">Whom it goes to: 0 the sender's manager, 1 that manager's manager, and so on up the directory.</param>
public sealed record EscalationDue(long IncidentId, string Reason, string Why, DateTimeOffset NotBefore, int Level = 0)
{
    /// <summary>For an escalation up the line: the step asked of the level below, and when it was due.</summary>
    public StepFacts? Step { get; init; }
}

/// <summary>How far up the directory an unanswered high or critical incident goes, and how long each level waits.</summary>
public sealed record EscalationLadder(int Depth, TimeSpan After)
{
    public static readonly EscalationLadder None = new(0, TimeSpan.Zero);
}

/// <summary>Local quiet hours, e.g. 20:00 to 07:00 (may wrap midnight).</summary>
public sealed record QuietHours(TimeOnly Start, TimeOnly End, TimeZoneInfo Zone)
{
    /// <summary>The end of the quiet period that <paramref name="now"/> falls in, or null when it is not quiet.</summary>
    public DateTimeOffset? EndOf(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, Zone);
        var time = TimeOnly.FromDateTime(local.DateTime);
        var quiet = Start <= End ? time >= Start && time < End : time >= Start || time < End;
        if (!quiet)
        {
            return null;
        }

        var endDate = DateOnly.FromDateTime(local.DateTime);
        if (time >= End)
        {
            endDate = endDate.AddDays(1);
        }

        var endLocal = endDate.ToDateTime(End);
        return new DateTimeOffset(endLocal, Zone.GetUtcOffset(endLocal)).ToUniversalTime();
    }
}

/// <summary>
/// Which escalations to the sender's manager an incident calls for now: opened at or above a severity,
/// re-exposed, or a step owned by the sender or the manager overdue; and, for high and critical incidents
/// whose step stays open, one level further up the line per ladder step. Quiet hours delay all but critical ones.
/// </summary>
public static class Escalations
{
    public static IReadOnlyList<EscalationDue> Due(EscalationFacts incident, Severity threshold, DateTimeOffset now, QuietHours? quiet, EscalationLadder? ladder = null)
    {
        ArgumentNullException.ThrowIfNull(incident);
        if (!incident.Status.IsOpen())
        {
            return [];
        }

        var reasons = new List<(string Reason, string Why)>();
        if (incident.Severity >= threshold)
        {
            reasons.Add(($"severity:{incident.Severity.Name()}", $"its severity is {incident.Severity.Name()}, at or above the escalation threshold"));
        }

        if (incident.ReExposed)
        {
            reasons.Add(("re-exposure", "the same people were exposed again by a follow-up message"));
        }

        foreach (var step in incident.Steps.Where(s => s.Open && s.DueAt < now && s.Owner is OwnerRole.Sender or OwnerRole.Manager))
        {
            reasons.Add(($"overdue:{step.Key}", $"the step \"{step.Title}\" ({step.Owner.Name()}) is overdue"));
        }

        var notBefore = incident.Severity == Severity.Critical ? now : quiet?.EndOf(now) ?? now;
        var due = reasons.Select(r => new EscalationDue(incident.IncidentId, r.Reason, r.Why, notBefore)).ToList();

        // A high or critical incident whose sender's or manager's step stays open goes up the line: one level
        // per ladder.After past the step's due time (the overdue mail to the manager was the reminder).
        var up = ladder ?? EscalationLadder.None;
        if (incident.Severity >= Severity.High && up.Depth > 0)
        {
            foreach (var step in incident.Steps.Where(s => s.Open && s.Owner is OwnerRole.Sender or OwnerRole.Manager))
            {
                for (var level = 1; level <= up.Depth && now >= step.DueAt + (up.After * level); level++)
                {
                    due.Add(new EscalationDue(incident.IncidentId, $"up{level}:{step.Key}",
                        $"the step \"{step.Title}\" asked of the level below is still open, {(up.After * level).TotalHours:0} hours after it was due", notBefore, level) { Step = step });
                }
            }
        }

        return due;
    }
}
