using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>
/// The people behind the exposures, across incidents, by the keyed hash of their address: one person exposed in
/// three incidents is one data subject with three exposures. Their requests (Art. 15 access, Art. 17 erasure) are
/// recorded by hash, never by address.
/// </summary>
public sealed partial class IncidentStore
{
    /// <summary>The incidents where the person with this keyed address was exposed, and records the lookup.</summary>
    public async Task<IReadOnlyList<SubjectExposure>> FindSubjectAsync(string key, Actor by, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var found = (await c.QueryAsync<SubjectExposure>(database.Command(
            """
            SELECT i.id AS incident_id, i.status, i.severity, i.detected_at, MIN(r.field) AS field, MIN(CASE WHEN r.sealed = '' THEN 1 ELSE 0 END) AS erased
            FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id JOIN incidents i ON i.id = f.incident_id
            WHERE r.recipient_key = @key
            GROUP BY i.id, i.status, i.severity, i.detected_at
            ORDER BY i.detected_at, i.id
            """,
            new { key }, tx, ct))).ToList();
        await RecordRequestAsync(c, tx, "find", key, by, reason, found.Count, now, ct);
        await tx.CommitAsync(ct);
        return found;
    }

    /// <summary>
    /// Erases the person's sealed address and name from closed incidents, keeping the keyed hash (counts stay
    /// right), with a timeline entry on each; open incidents are left as they are (they are still being handled).
    /// Returns the incidents erased from and those left open.
    /// </summary>
    public async Task<(IReadOnlyList<long> Erased, IReadOnlyList<long> LeftOpen)> EraseSubjectAsync(string key, Actor by, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var incidents = (await c.QueryAsync<(long Id, string Status)>(database.Command(
            """
            SELECT DISTINCT i.id, i.status FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id JOIN incidents i ON i.id = f.incident_id
            WHERE r.recipient_key = @key AND r.sealed <> ''
            """,
            new { key }, tx, ct))).ToList();
        var erased = incidents.Where(i => IncidentLifecycle.TryParse(i.Status, out var s) && !s.IsOpen()).Select(i => i.Id).Order().ToList();
        foreach (var id in erased)
        {
            await c.ExecuteAsync(database.Command(
                "UPDATE exposed_recipients SET sealed = '' WHERE recipient_key = @key AND finding_id IN (SELECT id FROM findings WHERE incident_id = @id)",
                new { key, id }, tx, ct));
            await AddEventAsync(c, tx, id, now, by.Name, TimelineKind.Subject.Name(),
                $"One exposed person's address and name were erased at their request ({reason}); the keyed hash stays, so the counts stay right.", ct);
        }

        await RecordRequestAsync(c, tx, "erase", key, by, reason, erased.Count, now, ct);
        await tx.CommitAsync(ct);
        return (erased, incidents.Select(i => i.Id).Except(erased).Order().ToList());
    }

    /// <summary>Distinct people exposed: overall, in incidents detected since <paramref name="quarterStart"/>, and in more than one incident.</summary>
    public async Task<SubjectCounts> SubjectCountsAsync(DateTimeOffset quarterStart, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleAsync<SubjectCounts>(database.Command(
            $"""
            WITH exposures AS (
                SELECT DISTINCT r.recipient_key, f.incident_id, i.detected_at
                FROM exposed_recipients r JOIN findings f ON f.id = r.finding_id JOIN incidents i ON i.id = f.incident_id
                WHERE {SqlFragments.ExposingRole("f.role")} AND i.status <> '{IncidentStatus.FalsePositive.Name()}')
            SELECT CAST(COUNT(DISTINCT recipient_key) AS INTEGER) AS total,
                   CAST(COUNT(DISTINCT CASE WHEN detected_at >= @quarterStart THEN recipient_key END) AS INTEGER) AS this_quarter,
                   CAST((SELECT COUNT(*) FROM (SELECT recipient_key FROM exposures GROUP BY recipient_key HAVING COUNT(DISTINCT incident_id) > 1) repeated) AS INTEGER) AS more_than_once
            FROM exposures
            """,
            new { quarterStart }, ct: ct));
    }

    /// <summary>How many of an incident's people were exposed in another incident too (not a false positive).</summary>
    public async Task<int> ExposedElsewhereAsync(long id, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<int>(database.Command($"SELECT CAST({SqlFragments.ExposedElsewhere("@id")} AS INTEGER)", new { id }, ct: ct));
    }

    private async Task RecordRequestAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string kind, string key, Actor by, string reason, int incidents, DateTimeOffset now, CancellationToken ct) =>
        await c.ExecuteAsync(database.Command(
            "INSERT INTO subject_requests (at, requested_by, kind, subject_key, reason, incidents) VALUES (@now, @by, @kind, @key, @reason, @incidents)",
            new { now, by = by.Name, kind, key, reason, incidents }, tx, ct));
}

/// <summary>One incident a data subject was exposed in.</summary>
public sealed record SubjectExposure
{
    public long IncidentId { get; init; }

    public string Status { get; init; } = "";

    public string Severity { get; init; } = "";

    public DateTimeOffset DetectedAt { get; init; }

    /// <summary>To or Cc.</summary>
    public string Field { get; init; } = "";

    /// <summary>The address and name were erased from this incident at the person's request.</summary>
    public bool Erased { get; init; }
}

/// <summary>Distinct people exposed (by keyed address), not counting false positives.</summary>
public sealed record SubjectCounts
{
    public int Total { get; init; }

    public int ThisQuarter { get; init; }

    public int MoreThanOnce { get; init; }
}
