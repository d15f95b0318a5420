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

    /// <summary>A plan step still to do.</summary>
    public static string StepTodo(string column = "status") => $"{column} = '{StepStatus.Todo.Name()}'";
}
