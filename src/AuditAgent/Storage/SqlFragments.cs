using AuditAgent.Core.Incidents;

namespace AuditAgent.Storage;

/// <summary>
/// The SQL spellings of Core's vocabularies, built from the names Core owns, so a state is never written
/// out by hand in a query.
/// </summary>
internal static class SqlFragments
{
    private static readonly string ClosedList = string.Join(", ", IncidentStatuses.Closed.Select(s => $"'{s.Name()}'"));

    /// <summary>The incident (its status column) is open: not resolved, not a false positive.</summary>
    public static string OpenIncident(string column = "status") => $"{column} NOT IN ({ClosedList})";

    public static string ClosedIncident(string column = "status") => $"{column} IN ({ClosedList})";

    /// <summary>0 for the most severe: ORDER BY it to list critical incidents first.</summary>
    public static string SeverityRank(string column = "severity") =>
        "CASE " + column + string.Concat(SeverityOrder.MostSevereFirst.Select((s, i) => $" WHEN '{s.Name()}' THEN {i}")) + $" ELSE {SeverityOrder.MostSevereFirst.Count} END";

    /// <summary>When the organisation became aware of the incident: as a breach decision recorded it, else at detection.</summary>
    public static string Awareness(string table = "") => $"COALESCE({table}aware_at, {table}detected_at)";

    /// <summary>An incident still waiting for its breach decision: none recorded, and not a false positive.</summary>
    public static string DecisionMissing(string table = "") => $"{table}decided_at IS NULL AND {table}status <> '{IncidentStatus.FalsePositive.Name()}'";

    /// <summary>A plan step still to do.</summary>
    public static string StepTodo(string column = "status") => $"{column} = '{StepStatus.Todo.Name()}'";
}
