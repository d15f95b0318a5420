using System.Globalization;
using AuditAgent.Core.Scans;
using Dapper;

namespace AuditAgent.Storage;

public sealed record JobRunRow
{
    public long Id { get; init; }

    public string Job { get; init; } = "";

    public string Instance { get; init; } = "";

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string Status { get; init; } = "";

    public string? Summary { get; init; }

    public string? Error { get; init; }
}

public sealed record PurgeResult(int IncidentRecipients, int SuppressedRecipients, int BccRecipients, int MailBodies, int Events)
{
    public int MessageStats { get; init; }
}

/// <summary>Job runs and data retention: the agent's own housekeeping.</summary>
public sealed class OperationsStore(Database database, AgentInstance instance)
{
    public async Task<long> StartJobAsync(string job, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(database.Command(
            $"INSERT INTO job_runs (job, instance, started_at, status) VALUES (@job, @Instance, @now, '{ScanOutcome.Running.Name()}') RETURNING id",
            new { job, Instance = instance.Id, now }, ct: ct));
    }

    public async Task FinishJobAsync(long id, string status, string? summary, string? error, DateTimeOffset now)
    {
        await using var c = await database.OpenAsync(CancellationToken.None);
        await c.ExecuteAsync(database.Command(
            "UPDATE job_runs SET status = @status, summary = @summary, error = @error, finished_at = @now WHERE id = @id",
            new { id, status, summary, error, now }));
    }

    /// <summary>The latest run of every job.</summary>
    public async Task<IReadOnlyList<JobRunRow>> LatestJobRunsAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<JobRunRow>(database.Command(
            "SELECT * FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY job", ct: ct))).ToList();
    }

    /// <summary>For each job whose latest run failed: when its failing began (the first failed run after its last success).</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> FailingSinceAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var failed = ScanOutcome.Failed.Name();
        var rows = await c.QueryAsync<(string Job, DateTimeOffset Since)>(database.Command(
            """
            SELECT r.job, MIN(r.started_at) FROM job_runs r
            WHERE r.status = @failed
              AND r.job IN (SELECT job FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job) AND status = @failed)
              AND r.id > COALESCE((SELECT MAX(s.id) FROM job_runs s WHERE s.job = r.job AND s.status = @succeeded), 0)
            GROUP BY r.job
            """,
            new { failed, succeeded = ScanOutcome.Succeeded.Name() }, ct: ct));
        return rows.ToDictionary(r => r.Job, r => r.Since, StringComparer.Ordinal);
    }

    /// <summary>
    /// Deletes personal data past retention: exposed recipients of incidents closed long enough ago and
    /// of old suppressed findings (counts and domains stay on the findings), Bcc recipient lists, and
    /// the bodies of sent mail.
    /// </summary>
    public async Task<PurgeResult> PurgeAsync(DateTimeOffset closedBefore, DateTimeOffset bccBefore, DateTimeOffset mailBefore, DateTimeOffset statsBefore, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var incidents = await c.ExecuteAsync(database.Command(
            $"""
            DELETE FROM exposed_recipients WHERE finding_id IN (
                SELECT f.id FROM findings f JOIN incidents i ON i.id = f.incident_id
                WHERE {SqlFragments.ClosedIncident("i.status")} AND i.closed_at < @closedBefore)
            """,
            new { closedBefore }, tx, ct));
        var suppressed = await c.ExecuteAsync(database.Command(
            """
            DELETE FROM exposed_recipients WHERE finding_id IN (
                SELECT id FROM findings WHERE incident_id IS NULL AND suppression_reason IS NOT NULL AND processed_at < @closedBefore)
            """,
            new { closedBefore }, tx, ct));
        var bcc = await c.ExecuteAsync(database.Command(
            "UPDATE bcc_messages SET recipients = '' WHERE sent_at < @bccBefore AND processed_at IS NOT NULL AND recipients <> ''",
            new { bccBefore }, tx, ct));
        var mail = await c.ExecuteAsync(database.Command(
            "UPDATE outbox SET html = '', text = '' WHERE status = 'sent' AND sent_at < @mailBefore AND (html <> '' OR text <> '')",
            new { mailBefore }, tx, ct));

        // Events follow the incident: those of incidents closed as long ago, and health events as old, go (with their dead letters).
        var events = await c.ExecuteAsync(database.Command(
            $"""
            DELETE FROM events WHERE incident_id IN (SELECT id FROM incidents WHERE {SqlFragments.ClosedIncident()} AND closed_at < @closedBefore)
               OR (incident_id IS NULL AND occurred_at < @closedBefore)
            """,
            new { closedBefore }, tx, ct));
        await c.ExecuteAsync(database.Command(
            "DELETE FROM event_dead_letters WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = event_dead_letters.event_id)", tx: tx, ct: ct));
        var stats = await c.ExecuteAsync(database.Command("DELETE FROM message_stats WHERE sent_unix < @before", new { before = statsBefore.ToUnixTimeSeconds() }, tx, ct));
        await tx.CommitAsync(ct);
        return new PurgeResult(incidents, suppressed, bcc, mail, events) { MessageStats = stats };
    }

    public static string Describe(PurgeResult r) => string.Create(CultureInfo.InvariantCulture,
        $"deleted {r.IncidentRecipients} recipients of closed incidents, {r.SuppressedRecipients} of suppressed findings, the Bcc lists of {r.BccRecipients} messages, {r.Events} events, {r.MessageStats} message count rows; emptied {r.MailBodies} sent mail bodies");
}
