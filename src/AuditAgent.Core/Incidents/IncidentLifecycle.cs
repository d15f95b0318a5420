namespace AuditAgent.Core.Incidents;

public enum IncidentStatus
{
    New,
    Acknowledged,
    Remediating,
    Resolved,
    FalsePositive,
}

public enum IncidentAction
{
    Acknowledge,
    StartRemediation,
    Resolve,
    MarkFalsePositive,
    Reopen,
}

/// <summary>A transition the lifecycle does not allow, with a message that says what would.</summary>
public sealed class InvalidTransitionException(string message) : InvalidOperationException(message);

/// <summary>new → acknowledged → remediating → resolved, false-positive from any open state, reopen from a closed one.</summary>
public static class IncidentLifecycle
{
    public static string Name(this IncidentStatus status) => status switch
    {
        IncidentStatus.FalsePositive => "false-positive",
        _ => status.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string? text, out IncidentStatus status)
    {
        foreach (var candidate in Enum.GetValues<IncidentStatus>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }

        status = default;
        return false;
    }

    public static bool IsOpen(this IncidentStatus status) => status is not (IncidentStatus.Resolved or IncidentStatus.FalsePositive);

    public static IncidentStatus Apply(IncidentStatus from, IncidentAction action) => (from, action) switch
    {
        (IncidentStatus.New, IncidentAction.Acknowledge) => IncidentStatus.Acknowledged,
        (IncidentStatus.New or IncidentStatus.Acknowledged, IncidentAction.StartRemediation) => IncidentStatus.Remediating,
        (_, IncidentAction.Resolve) when from.IsOpen() => IncidentStatus.Resolved,
        (_, IncidentAction.MarkFalsePositive) when from.IsOpen() => IncidentStatus.FalsePositive,
        (IncidentStatus.Resolved or IncidentStatus.FalsePositive, IncidentAction.Reopen) => IncidentStatus.Acknowledged,
        _ => throw new InvalidTransitionException(Refusal(from, action)),
    };

    private static string Refusal(IncidentStatus from, IncidentAction action) => (from, action) switch
    {
        (_, IncidentAction.Reopen) => $"the incident is {from.Name()}, not closed; only resolved or false-positive incidents can be reopened.",
        (_, _) when !from.IsOpen() => $"the incident is {from.Name()}; reopen it first.",
        (_, IncidentAction.Acknowledge) => $"the incident is already {from.Name()}.",
        _ => $"the incident is already {from.Name()}.",
    };
}
