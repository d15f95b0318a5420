using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>The console's incident list: every part optional, all of them in the page's URL.</summary>
/// <param name="Status">A status name, "open" (the default) or "all".</param>
/// <param name="Text">Words looked for in the sender and the subject.</param>
/// <param name="ClockDueBefore">Incidents without a breach decision whose 72 hours end before this moment (or have ended).</param>
public sealed record ConsoleFilter(
    string? Status = "open",
    string? Severity = null,
    string? Sender = null,
    string? Assignee = null,
    string? Text = null,
    bool ReExposed = false,
    bool RepeatSender = false,
    bool Overdue = false,
    DateTimeOffset? ClockDueBefore = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string Sort = "severity",
    bool Descending = false,
    int Page = 1);

public sealed record ConsolePage(IReadOnlyList<IncidentRow> Rows, int Total, int Page, int PageSize)
{
    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);
}

public sealed record OverdueStepRow(long IncidentId, string Severity, string Title, string Owner, DateTimeOffset DueAt);

public sealed record DayCount(DateOnly Day, int Count);

/// <summary>What the overview shows; each figure links to the list filtered the same way.</summary>
public sealed record ConsoleOverview(
    IReadOnlyDictionary<string, int> OpenBySeverity,
    int OpenOlderThanWeek,
    IReadOnlyList<IncidentRow> ClocksEndingSoon,
    IReadOnlyList<OverdueStepRow> OverdueSteps,
    int ReExposedOpen,
    int RepeatSenderOpen,
    IReadOnlyList<DayCount> Trend);

/// <summary>The console's reads: the overview in a handful of aggregate queries, and the filtered, sorted, paged list.</summary>
public sealed class ConsoleQueries(Database database)
{
    /// <summary>The columns a list may be sorted by, as the URL names them.</summary>
    public static readonly IReadOnlyDictionary<string, string> SortColumns = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id"] = "id",
        ["severity"] = SqlFragments.SeverityRank(),
        ["status"] = "status",
        ["sender"] = "LOWER(sender_address)",
        ["exposed"] = "exposed_count",
        ["detected"] = "detected_at",
        ["assignee"] = "LOWER(COALESCE(assignee, ''))",
    };

    public async Task<ConsoleOverview> OverviewAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var open = SqlFragments.OpenIncident();
        var weekAgo = now.AddDays(-7);
        // One pass over the open incidents for every count the overview shows.
        var counts = (await c.QueryAsync<(string Severity, int Open, int Older, int ReExposed, int Repeat)>(database.Command(
            $"""
            SELECT severity, CAST(COUNT(*) AS INTEGER),
                   CAST(SUM(CASE WHEN detected_at < @weekAgo THEN 1 ELSE 0 END) AS INTEGER),
                   CAST(SUM(CASE WHEN re_exposed = @yes THEN 1 ELSE 0 END) AS INTEGER),
                   CAST(SUM(CASE WHEN repeat_sender = @yes THEN 1 ELSE 0 END) AS INTEGER)
            FROM incidents WHERE {open} GROUP BY severity
            """,
            new { weekAgo, yes = true }, ct: ct))).ToList();
        // Every incident still waiting for its breach decision, the deadline nearest (or longest past) first.
        var soon = (await c.QueryAsync<IncidentRow>(database.Command(
            $"SELECT * FROM incidents WHERE {SqlFragments.DecisionMissing()} ORDER BY {SqlFragments.Awareness()}, id LIMIT 50", ct: ct))).ToList();
        var overdue = (await c.QueryAsync<OverdueStepRow>(database.Command(
            $"""
            SELECT s.incident_id, i.severity, s.title, s.owner, s.due_at FROM plan_steps s JOIN incidents i ON i.id = s.incident_id
            WHERE {SqlFragments.OpenIncident("i.status")} AND {SqlFragments.StepTodo("s.status")} AND s.due_at < @now
            ORDER BY s.due_at, s.incident_id LIMIT 50
            """,
            new { now }, ct: ct))).ToList();
        // Stored times are fixed-width UTC text (yyyy-MM-ddTHH:mm:ss.fffZ): the first ten characters are the UTC day.
        var since = new DateTimeOffset(now.UtcDateTime.Date.AddDays(-13), TimeSpan.Zero);
        var perDay = (await c.QueryAsync<(string Day, int Count)>(database.Command(
            "SELECT substr(detected_at, 1, 10), CAST(COUNT(*) AS INTEGER) FROM incidents WHERE detected_at >= @since GROUP BY substr(detected_at, 1, 10)",
            new { since }, ct: ct))).ToDictionary(x => x.Day, x => x.Count, StringComparer.Ordinal);
        var trend = Enumerable.Range(0, 14).Select(i => DateOnly.FromDateTime(since.UtcDateTime.AddDays(i)))
            .Select(d => new DayCount(d, perDay.GetValueOrDefault(d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        return new ConsoleOverview(
            counts.ToDictionary(x => x.Severity, x => x.Open, StringComparer.Ordinal), counts.Sum(x => x.Older), soon, overdue,
            counts.Sum(x => x.ReExposed), counts.Sum(x => x.Repeat), trend);
    }

    public async Task<ConsolePage> ListAsync(ConsoleFilter filter, int pageSize, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var where = new List<string>();
        switch (filter.Status)
        {
            case null or "" or "open":
                where.Add(SqlFragments.OpenIncident());
                break;
            case "all":
                break;
            default:
                where.Add("status = @Status");
                break;
        }

        void When(bool condition, string sql)
        {
            if (condition)
            {
                where.Add(sql);
            }
        }

        When(filter.Severity is { Length: > 0 }, "severity = @Severity");
        When(filter.Sender is { Length: > 0 }, "LOWER(sender_address) LIKE @SenderLike ESCAPE '\\'");
        When(filter.Assignee is { Length: > 0 }, "LOWER(assignee) = LOWER(@Assignee)");
        When(filter.Text is { Length: > 0 }, "(LOWER(sender_address) LIKE @TextLike ESCAPE '\\' OR LOWER(COALESCE(subject, '')) LIKE @TextLike ESCAPE '\\')");
        When(filter.ReExposed, "re_exposed = @yes");
        When(filter.RepeatSender, "repeat_sender = @yes");
        When(filter.Overdue, $"{SqlFragments.OpenIncident()} AND EXISTS (SELECT 1 FROM plan_steps s WHERE s.incident_id = incidents.id AND {SqlFragments.StepTodo("s.status")} AND s.due_at < @now)");
        When(filter.ClockDueBefore is not null, $"{SqlFragments.DecisionMissing()} AND {SqlFragments.Awareness()} <= @clockCeiling");
        When(filter.From is not null, "detected_at >= @From");
        When(filter.To is not null, "detected_at < @To");
        var parameters = new
        {
            filter.Status, filter.Severity, filter.Assignee, filter.From, filter.To, yes = true, now,
            SenderLike = Like(filter.Sender), TextLike = Like(filter.Text),
            clockCeiling = (filter.ClockDueBefore ?? now) - NotificationClock.Window,
        };
        var condition = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        var order = SortColumns.TryGetValue(filter.Sort, out var column) ? column : SortColumns["severity"];
        var direction = filter.Descending ? "DESC" : "ASC";
        var page = Math.Max(1, filter.Page);
        await using var c = await database.OpenAsync(ct);
        var total = await c.ExecuteScalarAsync<int>(database.Command($"SELECT CAST(COUNT(*) AS INTEGER) FROM incidents {condition}", parameters, ct: ct));
        var rows = await c.QueryAsync<IncidentRow>(database.Command(
            $"SELECT * FROM incidents {condition} ORDER BY {order} {direction}, detected_at DESC, id DESC LIMIT {pageSize} OFFSET {(page - 1) * pageSize}",
            parameters, ct: ct));
        return new ConsolePage(rows.ToList(), total, page, pageSize);
    }

    /// <summary>Findings, newest first, a page at a time; <paramref name="suppressedOnly"/> keeps those kept out of incidents (with why).</summary>
    public async Task<(IReadOnlyList<FindingRow> Rows, int Total)> FindingsAsync(bool suppressedOnly, int page, int pageSize, CancellationToken ct)
    {
        var condition = suppressedOnly ? "WHERE f.suppression_reason IS NOT NULL" : "";
        await using var c = await database.OpenAsync(ct);
        var total = await c.ExecuteScalarAsync<int>(database.Command($"SELECT CAST(COUNT(*) AS INTEGER) FROM findings f {condition}", ct: ct));
        var rows = await c.QueryAsync<FindingRow>(database.Command(
            $"""
            {FindingQueries.FindingRowSelect}
            {condition}
            ORDER BY f.sent_at DESC, f.id DESC LIMIT {pageSize} OFFSET {(Math.Max(1, page) - 1) * pageSize}
            """, ct: ct));
        return (rows.ToList(), total);
    }

    /// <summary>The newest timeline entry's id: the version of the incident a page shows (see <see cref="Actor"/>).</summary>
    public async Task<long> VersionAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long?>(database.Command("SELECT MAX(id) FROM incident_events WHERE incident_id = @id", new { id }, ct: ct)) ?? 0;
    }

    private static string? Like(string? text) => text is { Length: > 0 }
        ? "%" + text.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%"
        : null;
}
