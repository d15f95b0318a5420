using AuditAgent.Core.Incidents;

namespace AuditAgent.Storage;

/// <summary>
/// The SQL spellings of Core's vocabularies, built from the names Core owns, so a state is never written
/// out by hand in a query.
/// </summary>
internal static class SqlFragments
{
    private static readonly string ClosedList = string.Join(", ", IncidentStatuses.Closed.Select(s => $"'{s.Name()}'"));

    private static string Roles(params FindingRole[] roles) => string.Join(", ", roles.Select(r => $"'{IncidentStore.RoleName(r)}'"));

    private static readonly string ExposingRoles = Roles(FindingRole.Blast, FindingRole.ReExposure, FindingRole.ReplyAll);

    private static readonly string BlastOrCopyRoles = Roles(FindingRole.Blast, FindingRole.Copy);

    /// <summary>The finding (its role column) exposed the incident's people: its blast, a re-exposure, or a colleague's reply to all. A copy exposes no one new.</summary>
    public static string ExposingRole(string column = "role") => $"{column} IN ({ExposingRoles})";

    /// <summary>The finding is a message of the incident's blast, in the sender's or another mailbox (where its conversation is found).</summary>
    public static string BlastOrCopy(string column = "role") => $"{column} IN ({BlastOrCopyRoles})";

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

    /// <summary>How many distinct people of the incident <paramref name="incident"/> names were exposed in another incident too (not a false positive), as a scalar subquery.</summary>
    public static string ExposedElsewhere(string incident) =>
        "(SELECT COUNT(DISTINCT r.recipient_key) FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id"
        + $" WHERE f.incident_id = {incident} AND {ExposingRole("f.role")} AND EXISTS ("
        + " SELECT 1 FROM exposed_recipients o JOIN findings g ON g.id = o.finding_id JOIN incidents j ON j.id = g.incident_id"
        + $" WHERE o.recipient_key = r.recipient_key AND g.incident_id <> {incident} AND {ExposingRole("g.role")}"
        + $" AND j.status <> '{IncidentStatus.FalsePositive.Name()}'))";

    /// <summary>A plan step still to do.</summary>
    public static string StepTodo(string column = "status") => $"{column} = '{StepStatus.Todo.Name()}'";
}
