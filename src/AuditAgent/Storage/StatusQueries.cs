using Dapper;

namespace AuditAgent.Storage;

public sealed record ScanRunRow
{
    public long Id { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string Status { get; init; } = "";

    public int Mailboxes { get; init; }

    public int MailboxesFailed { get; init; }

    public long Messages { get; init; }

    public int FindingsNew { get; init; }

    public string? Error { get; init; }
}

public sealed record MailboxStatusRow
{
    public string Address { get; init; } = "";

    public DateTimeOffset? LastSyncedAt { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorAt { get; init; }

    public int Resyncs { get; init; }
}

public sealed record AgentStatus(
    ScanRunRow? LastScan,
    IReadOnlyList<MailboxStatusRow> Mailboxes,
    IReadOnlyDictionary<string, int> OpenIncidents,
    IReadOnlyList<JobRunRow> Jobs,
    IReadOnlyDictionary<string, int> Outbox,
    DateTimeOffset? LastDigestSentAt);

/// <summary>What `status` shows: the agent's health from its own records.</summary>
public sealed class StatusQueries(Database database, OperationsStore operations)
{
    public async Task<AgentStatus> GetAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        CommandDefinition Sql(string sql) => new(sql, commandTimeout: database.CommandTimeout, cancellationToken: ct);
        var lastScan = await c.QuerySingleOrDefaultAsync<ScanRunRow>(Sql("SELECT * FROM scan_runs ORDER BY id DESC LIMIT 1"));
        var mailboxes = (await c.QueryAsync<MailboxStatusRow>(Sql("SELECT address, last_synced_at, last_error, last_error_at, resyncs FROM mailboxes ORDER BY address"))).ToList();
        var open = (await c.QueryAsync<(string Severity, int Count)>(Sql(
            "SELECT severity, CAST(COUNT(*) AS INTEGER) FROM incidents WHERE status NOT IN ('resolved', 'false-positive') GROUP BY severity"))).ToDictionary(x => x.Severity, x => x.Count);
        var outbox = (await c.QueryAsync<(string Status, int Count)>(Sql("SELECT status, CAST(COUNT(*) AS INTEGER) FROM outbox GROUP BY status"))).ToDictionary(x => x.Status, x => x.Count);
        var lastDigest = await c.ExecuteScalarAsync<DateTimeOffset?>(Sql("SELECT MAX(sent_at) FROM outbox WHERE kind = 'digest' AND status = 'sent'"));
        return new AgentStatus(lastScan, mailboxes, open, await operations.LatestJobRunsAsync(ct), outbox, lastDigest);
    }
}
