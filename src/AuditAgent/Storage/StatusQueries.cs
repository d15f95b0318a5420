using AuditAgent.Core.Scans;
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

    /// <summary>Messages the scan could not use (malformed, impossible dates, a repeated id with other recipients).</summary>
    public long SkippedMessages { get; init; }

    /// <summary>False for a mailbox whose sign-in is blocked (shared mailboxes, leavers): scanned all the same.</summary>
    public bool AccountEnabled { get; init; } = true;

    /// <summary>mailboxSettings.userPurpose (user, shared, room, equipment, ...), or null while not read (MailboxSettings.Read not granted).</summary>
    public string? Purpose { get; init; }

    /// <summary>When Graph last said the user has no Exchange Online mailbox (tried again a day later), or null.</summary>
    public DateTimeOffset? NoMailboxAt { get; init; }

    /// <summary>Never read by the scan: a room's or equipment's mailbox, or a user without a mailbox.</summary>
    public bool NotScanned => Purpose is "room" or "equipment" || NoMailboxAt is not null;

    /// <summary>What the mailbox is, in a word or two: "shared", "room (not scanned)", "no mailbox", "sign-in blocked".</summary>
    public string Kind => NoMailboxAt is not null ? "no Exchange Online mailbox (tried again daily)"
        : Purpose is "room" or "equipment" ? $"{Purpose} (not scanned)"
        : Purpose is { Length: > 0 } p && p != "user" ? p
        : AccountEnabled ? Purpose ?? "user" : "sign-in blocked";
}

public sealed record AgentInstanceRow
{
    public string Id { get; init; } = "";

    public string Host { get; init; } = "";

    public int Pid { get; init; }

    public string Version { get; init; } = "";

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset LastSeenAt { get; init; }

    public DateTimeOffset? StoppedAt { get; init; }
}

/// <summary>One agent's part of the latest scan cycle: mailboxes it covered and mailboxes it holds now.</summary>
public sealed record CycleShare(string Agent, int Covered, int Leased);

/// <summary>The agents using this database (seen in the last day) and how the latest cycle is shared among them.</summary>
public sealed record ClusterStatus(IReadOnlyList<AgentInstanceRow> Agents, ScanCycle? Cycle, IReadOnlyList<CycleShare> Shares)
{
    /// <summary>Mailboxes of the cycle covered so far, by any agent.</summary>
    public int Covered => Shares.Sum(s => s.Covered);
}

public sealed record AgentStatus(
    ClusterStatus Cluster,
    ScanRunRow? LastScan,
    IReadOnlyList<MailboxStatusRow> Mailboxes,
    IReadOnlyDictionary<string, int> OpenIncidents,
    IReadOnlyList<JobRunRow> Jobs,
    IReadOnlyDictionary<string, int> Outbox,
    DateTimeOffset? LastDigestSentAt,
    IReadOnlyList<SinkStatus> Sinks);

/// <summary>One push sink: where it stands, how far behind the stream it is, what failed, and its dead letters.</summary>
public sealed record SinkStatus
{
    public string Name { get; init; } = "";

    public long LastEventId { get; init; }

    /// <summary>Events written since its checkpoint (some may not be for it).</summary>
    public long Backlog { get; init; }

    public long Delivered { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public string? LastError { get; init; }

    public int DeadLetters { get; init; }
}

/// <param name="LastGoodScan">When the last scan that did not fail finished.</param>
/// <param name="FailingMailboxes">Mailboxes whose last read failed.</param>
/// <param name="Outbox">Mail not yet sent, by status (pending, sending, failed, unknown).</param>
public sealed record OperationalSnapshot(DateTimeOffset? LastGoodScan, long FailingMailboxes, IReadOnlyDictionary<string, long> Outbox, IReadOnlyList<SinkStatus> Sinks);

/// <summary>What `status` shows: the agent's health from its own records.</summary>
public sealed class StatusQueries(Database database, OperationsStore operations, TimeProvider time)
{
    public async Task<AgentStatus> GetAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var lastScan = await c.QuerySingleOrDefaultAsync<ScanRunRow>(database.Command("SELECT * FROM scan_runs ORDER BY id DESC LIMIT 1", ct: ct));
        var mailboxes = (await c.QueryAsync<MailboxStatusRow>(database.Command("SELECT address, last_synced_at, last_error, last_error_at, resyncs, skipped_messages, account_enabled, purpose, no_mailbox_at FROM mailboxes ORDER BY address", ct: ct))).ToList();
        var open = (await c.QueryAsync<(string Severity, int Count)>(database.Command(
            $"SELECT severity, CAST(COUNT(*) AS INTEGER) FROM incidents WHERE {SqlFragments.OpenIncident()} GROUP BY severity", ct: ct))).ToDictionary(x => x.Severity, x => x.Count);
        var outbox = (await c.QueryAsync<(string Status, int Count)>(database.Command("SELECT status, CAST(COUNT(*) AS INTEGER) FROM outbox GROUP BY status", ct: ct))).ToDictionary(x => x.Status, x => x.Count);
        var lastDigest = await c.ExecuteScalarAsync<DateTimeOffset?>(database.Command("SELECT MAX(sent_at) FROM outbox WHERE kind = 'digest' AND status = 'sent'", ct: ct));
        return new AgentStatus(await GetClusterAsync(c, ct), lastScan, mailboxes, open, await operations.LatestJobRunsAsync(ct), outbox, lastDigest, await SinksAsync(c, ct));
    }

    /// <summary>Every push sink that has run, with its backlog (events written since its checkpoint) and dead letters.</summary>
    public async Task<IReadOnlyList<SinkStatus>> SinksAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await SinksAsync(c, ct);
    }

    private async Task<IReadOnlyList<SinkStatus>> SinksAsync(System.Data.Common.DbConnection c, CancellationToken ct)
    {
        return (await c.QueryAsync<SinkStatus>(database.Command(
            """
            SELECT s.name, s.last_event_id,
                   CAST((SELECT COUNT(*) FROM events e WHERE e.id > s.last_event_id) AS BIGINT) AS backlog,
                   s.delivered, s.attempts, s.next_attempt_at, s.last_error,
                   CAST((SELECT COUNT(*) FROM event_dead_letters d WHERE d.sink = s.name) AS INTEGER) AS dead_letters
            FROM event_sinks s ORDER BY s.name
            """, ct: ct))).ToList();
    }

    /// <summary>
    /// When the last scan that did not fail finished (null when none has): what a readiness probe needs,
    /// one aggregate instead of the whole status, and a scan running now does not hide the one before it.
    /// </summary>
    public async Task<DateTimeOffset?> LastGoodScanAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await LastGoodScanAsync(c, ct);
    }

    private Task<DateTimeOffset?> LastGoodScanAsync(System.Data.Common.DbConnection c, CancellationToken ct) =>
        c.ExecuteScalarAsync<DateTimeOffset?>(database.Command(
            "SELECT MAX(finished_at) FROM scan_runs WHERE finished_at IS NOT NULL AND status <> @failed",
            new { failed = ScanOutcome.Failed.Name() }, ct: ct));

    /// <summary>What the backlog gauges report (Telemetry/BacklogSampler): aggregates only, read every Telemetry:SampleSeconds.</summary>
    public async Task<OperationalSnapshot> SnapshotAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var lastGood = await LastGoodScanAsync(c, ct);
        var failing = await c.ExecuteScalarAsync<long>(database.Command("SELECT COUNT(*) FROM mailboxes WHERE last_error IS NOT NULL", ct: ct));
        var outbox = (await c.QueryAsync<(string Status, long Count)>(database.Command(
            "SELECT status, CAST(COUNT(*) AS BIGINT) FROM outbox WHERE status <> 'sent' GROUP BY status", ct: ct))).ToDictionary(x => x.Status, x => x.Count, StringComparer.Ordinal);
        return new OperationalSnapshot(lastGood, failing, outbox, await SinksAsync(c, ct));
    }

    private async Task<ClusterStatus> GetClusterAsync(System.Data.Common.DbConnection c, CancellationToken ct)
    {
        var dayAgo = time.GetUtcNow().AddDays(-1);
        var agents = (await c.QueryAsync<AgentInstanceRow>(database.Command("SELECT * FROM agent_instances WHERE last_seen_at > @dayAgo ORDER BY id", new { dayAgo }, ct: ct))).ToList();
        var cycle = await c.QuerySingleOrDefaultAsync<ScanCycle>(database.Command("SELECT * FROM scan_cycles ORDER BY id DESC LIMIT 1", ct: ct));
        if (cycle is null)
        {
            return new ClusterStatus(agents, null, []);
        }

        var covered = (await c.QueryAsync<(string Agent, int Count)>(database.Command(
            "SELECT scanned_by, CAST(COUNT(*) AS INTEGER) FROM mailboxes WHERE done_cycle = @Id GROUP BY scanned_by", new { cycle.Id }, ct: ct))).ToList();
        var leased = (await c.QueryAsync<(string Agent, int Count)>(database.Command(
            """
            SELECT lease_owner, CAST(COUNT(*) AS INTEGER) FROM mailboxes
            WHERE lease_owner IS NOT NULL AND due_cycle = @Id AND (done_cycle IS NULL OR done_cycle <> @Id)
            GROUP BY lease_owner
            """,
            new { cycle.Id }, ct: ct))).ToList();
        var shares = covered.Select(x => x.Agent).Union(leased.Select(x => x.Agent)).Order(StringComparer.Ordinal)
            .Select(a => new CycleShare(a, covered.FirstOrDefault(x => x.Agent == a).Count, leased.FirstOrDefault(x => x.Agent == a).Count))
            .ToList();
        return new ClusterStatus(agents, cycle, shares);
    }
}
