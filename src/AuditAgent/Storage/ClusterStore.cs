using AuditAgent.Graph;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>One pass over every mailbox, shared by the agents that take part in it.</summary>
public sealed record ScanCycle
{
    public long Id { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public string StartedBy { get; init; } = "";

    /// <summary>Start of the look-back window for mailboxes that begin a new sync in this cycle.</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>Verified and configured internal domains, one per line: every agent detects with the same list.</summary>
    public string InternalDomains { get; init; } = "";

    public int Mailboxes { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A mailbox leased to this agent, with where its delta sync stands.</summary>
public sealed record LeasedMailbox
{
    public string Id { get; init; } = "";

    public string Address { get; init; } = "";

    public string? DisplayName { get; init; }

    public string? DeltaLink { get; init; }

    public bool RoundComplete { get; init; }

    public bool AccountEnabled { get; init; } = true;

    public string? Department { get; init; }

    public Mailbox ToMailbox() => new(Id, Address, DisplayName, AccountEnabled, Department);
}

/// <summary>The lease a page write is made under: a write from an agent that lost its lease is dropped.</summary>
public sealed record MailboxLease(long CycleId, string Owner);

/// <summary>
/// Scan cycles and mailbox leases: how several agents on one database share a cycle without a
/// coordinator. The agent whose scan fires reads the directory and opens a cycle; every agent in the
/// cycle leases mailboxes a few at a time (PostgreSQL: FOR UPDATE SKIP LOCKED, so agents never wait for
/// each other), renews its leases while it works, and marks each mailbox covered in the transaction
/// that stores its last page. A lease that is not renewed expires and another agent takes the mailbox
/// over from its stored delta link.
/// </summary>
public sealed class ClusterStore(Database database, AgentInstance instance)
{
    private const long CycleLockKey = LockKeys.ScanCycle;

    // Written as the partial index ix_mailboxes_uncovered is, so that both databases use it.
    private const string Uncovered = "due_cycle = @Cycle AND (done_cycle IS NULL OR done_cycle <> due_cycle)";

    public string Owner => instance.Id;

    /// <summary>How long a user whose mailbox Graph says does not exist waits before it is tried again.</summary>
    public static readonly TimeSpan NoMailboxRetry = TimeSpan.FromDays(1);

    /// <summary>How long a mailbox's purpose (mailboxSettings.userPurpose) is trusted before it is read again.</summary>
    public static readonly TimeSpan PurposeRefresh = TimeSpan.FromDays(1);

    /// <summary>Mailbox purposes that are never scanned: a room's or a piece of equipment's calendar mailbox sends no lists.</summary>
    public const string NotScannedPurposes = "'room', 'equipment'";

    /// <summary>
    /// Joins the open cycle when it still has mailboxes to cover, else opens a new one over <paramref name="mailboxes"/>.
    /// Room and equipment mailboxes, and users found without a mailbox in the last day, are covered at once, unread.
    /// </summary>
    /// <param name="purposes">mailboxSettings.userPurpose read now, by mailbox id (the others keep what was read before).</param>
    public async Task<(ScanCycle Cycle, bool Opened)> OpenOrJoinAsync(IReadOnlyList<Mailbox> mailboxes, IEnumerable<string> internalDomains, DateTimeOffset since, DateTimeOffset now,
        IReadOnlyDictionary<string, string>? purposes, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await database.LockAsync(c, tx, CycleLockKey, ct);
        var open = await c.QuerySingleOrDefaultAsync<ScanCycle>(database.Command("SELECT * FROM scan_cycles WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1", null, tx, ct));
        if (open is not null)
        {
            var uncovered = await c.ExecuteScalarAsync<int>(database.Command($"SELECT CAST(COUNT(*) AS INTEGER) FROM mailboxes WHERE {Uncovered}", new { Cycle = open.Id }, tx, ct));
            if (uncovered > 0)
            {
                await tx.CommitAsync(ct);
                return (open, false);
            }

            await c.ExecuteAsync(database.Command("UPDATE scan_cycles SET finished_at = @now WHERE id = @Id", new { now, open.Id }, tx, ct));
        }

        var domains = string.Join('\n', internalDomains);
        var id = await c.ExecuteScalarAsync<long>(database.Command(
            """
            INSERT INTO scan_cycles (started_at, started_by, since, internal_domains, mailboxes)
            VALUES (@now, @Owner, @since, @domains, @Count)
            RETURNING id
            """,
            new { now, Owner, since, domains, mailboxes.Count },
            tx,
            ct));
        await UpsertMailboxesAsync(c, tx, mailboxes, purposes, id, now, ct);
        // Not read this cycle: rooms and equipment, and users Graph said have no mailbox less than a day ago.
        await c.ExecuteAsync(database.Command(
            $"""
            UPDATE mailboxes SET done_cycle = due_cycle
            WHERE due_cycle = @Cycle AND (purpose IN ({NotScannedPurposes}) OR no_mailbox_at > @retryAfter)
            """,
            new { Cycle = id, retryAfter = now - NoMailboxRetry }, tx, ct));
        await tx.CommitAsync(ct);
        return (new ScanCycle { Id = id, StartedAt = now, StartedBy = Owner, Since = since, InternalDomains = domains, Mailboxes = mailboxes.Count }, true);
    }

    private const string UpsertMailbox = """
        ON CONFLICT (id) DO UPDATE SET address = excluded.address, display_name = excluded.display_name,
            account_enabled = excluded.account_enabled, department = excluded.department,
            purpose = COALESCE(excluded.purpose, mailboxes.purpose),
            purpose_checked_at = COALESCE(excluded.purpose_checked_at, mailboxes.purpose_checked_at),
            due_cycle = excluded.due_cycle, lease_owner = NULL, lease_expires_at = NULL
        """;

    /// <summary>
    /// Every mailbox of the directory into the new cycle, a row each: on PostgreSQL one statement (the columns as
    /// arrays, unnested by the server), on SQLite one prepared statement run per row; not a statement built per row.
    /// </summary>
    private async Task UpsertMailboxesAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, IReadOnlyList<Mailbox> mailboxes,
        IReadOnlyDictionary<string, string>? purposes, long cycle, DateTimeOffset now, CancellationToken ct)
    {
        string? Purpose(Mailbox m) => purposes?.GetValueOrDefault(m.Id);
        if (database.IsPostgreSql)
        {
            await c.ExecuteAsync(database.Command(
                $"""
                INSERT INTO mailboxes (id, address, display_name, first_seen_at, due_cycle, account_enabled, department, purpose, purpose_checked_at)
                SELECT m.id, m.address, m.display_name, @now, @cycle, m.enabled, m.department, m.purpose, CASE WHEN m.purpose IS NULL THEN NULL ELSE @now END
                FROM unnest(@Ids, @Addresses, @Names, @Enabled, @Departments, @Purposes) AS m(id, address, display_name, enabled, department, purpose)
                {UpsertMailbox}
                """,
                new
                {
                    now, cycle,
                    Ids = mailboxes.Select(m => m.Id).ToArray(),
                    Addresses = mailboxes.Select(m => m.Address).ToArray(),
                    Names = mailboxes.Select(m => m.DisplayName).ToArray(),
                    Enabled = mailboxes.Select(m => m.AccountEnabled).ToArray(),
                    Departments = mailboxes.Select(m => m.Department).ToArray(),
                    Purposes = mailboxes.Select(Purpose).ToArray(),
                }, tx, ct));
            return;
        }

        await using var insert = await PreparedStatement.PrepareAsync(c, tx, $"""
            INSERT INTO mailboxes (id, address, display_name, first_seen_at, due_cycle, account_enabled, department, purpose, purpose_checked_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            {UpsertMailbox}
            """, 9, ct);
        foreach (var m in mailboxes)
        {
            var purpose = Purpose(m);
            await insert.RunAsync(ct, m.Id, m.Address, m.DisplayName, now, cycle, m.AccountEnabled, m.Department, purpose, purpose is null ? null : now);
        }
    }

    /// <summary>The mailboxes whose purpose was read since <paramref name="since"/> (not read again until a day has passed).</summary>
    public async Task<HashSet<string>> PurposeKnownSinceAsync(DateTimeOffset since, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<string>(database.Command("SELECT id FROM mailboxes WHERE purpose_checked_at > @since", new { since }, ct: ct)))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The tenant's internal domains as the latest scan cycle read them (verified domains and Scan:InternalDomains).</summary>
    public async Task<IReadOnlyList<string>> LatestInternalDomainsAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var domains = await c.ExecuteScalarAsync<string?>(database.Command("SELECT internal_domains FROM scan_cycles ORDER BY id DESC LIMIT 1", null, null, ct));
        return domains?.Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? [];
    }

    /// <summary>The open cycle if it has a mailbox nobody holds (or whose lease expired), else null.</summary>
    public async Task<ScanCycle?> FindClaimableAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ScanCycle>(database.Command(
            """
            SELECT s.* FROM scan_cycles s
            WHERE s.finished_at IS NULL
              AND EXISTS (SELECT 1 FROM mailboxes WHERE due_cycle = s.id AND (done_cycle IS NULL OR done_cycle <> due_cycle)
                                                    AND (lease_owner IS NULL OR lease_expires_at < @now))
            ORDER BY s.id DESC LIMIT 1
            """,
            new { now },
            null,
            ct));
    }

    /// <summary>Leases up to <paramref name="count"/> uncovered mailboxes that nobody holds or whose lease expired.</summary>
    public async Task<IReadOnlyList<LeasedMailbox>> ClaimAsync(long cycle, int count, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<LeasedMailbox>(database.Command(
            $"""
            UPDATE mailboxes SET lease_owner = @Owner, lease_expires_at = @Expires
            WHERE id IN (SELECT id FROM mailboxes
                         WHERE {Uncovered} AND (lease_owner IS NULL OR lease_expires_at < @Now)
                         ORDER BY id LIMIT @Count {database.SkipLocked})
            RETURNING id, address, display_name, delta_link, round_complete, account_enabled, department
            """,
            new { Owner, Expires = now + lease, Now = now, Cycle = cycle, Count = count },
            null,
            ct));
        return rows.ToList();
    }

    /// <summary>Extends this agent's leases in the cycle and records that it is alive.</summary>
    public async Task RenewAsync(long cycle, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            $"UPDATE mailboxes SET lease_expires_at = @Expires WHERE lease_owner = @Owner AND {Uncovered}",
            new { Expires = now + lease, Owner, Cycle = cycle },
            null,
            ct));
        await CheckInAsync(c, now, ct);
    }

    /// <summary>Gives this agent's unfinished mailboxes back (on shutdown), so another agent takes them at once.</summary>
    public async Task ReleaseAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE mailboxes SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = @Owner",
            new { Owner },
            null,
            ct));
    }

    /// <summary>
    /// Takes back, without waiting for expiry, the leases of agents on this machine whose process is gone
    /// (killed). Agents elsewhere are only known dead when their leases expire.
    /// </summary>
    public async Task<int> ReturnLeasesOfDeadAgentsAsync(long cycle, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var holders = await c.QueryAsync<(string Id, string Host, int Pid)>(database.Command(
            """
            SELECT DISTINCT a.id, a.host, a.pid FROM mailboxes m JOIN agent_instances a ON a.id = m.lease_owner
            WHERE m.lease_owner <> @Owner AND m.due_cycle = @Cycle AND (m.done_cycle IS NULL OR m.done_cycle <> m.due_cycle)
            """,
            new { Owner, Cycle = cycle },
            null,
            ct));
        var returned = 0;
        foreach (var holder in holders.Where(h => AgentInstance.IsDeadOnThisHost(h.Host, h.Pid)))
        {
            returned += await c.ExecuteAsync(database.Command(
                "UPDATE mailboxes SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = @Id",
                new { holder.Id },
                null,
                ct));
        }

        return returned;
    }

    /// <summary>Mailboxes of the cycle not yet covered, leaving out those this agent holds.</summary>
    public async Task<int> UncoveredByOthersAsync(long cycle, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<int>(database.Command(
            $"SELECT CAST(COUNT(*) AS INTEGER) FROM mailboxes WHERE {Uncovered} AND (lease_owner IS NULL OR lease_owner <> @Owner)",
            new { Cycle = cycle, Owner },
            null,
            ct));
    }

    /// <summary>Closes the cycle once every mailbox in it is covered; true when it is (by this call or before).</summary>
    public async Task<bool> FinishIfCoveredAsync(long cycle, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var uncovered = await c.ExecuteScalarAsync<int>(database.Command($"SELECT CAST(COUNT(*) AS INTEGER) FROM mailboxes WHERE {Uncovered}", new { Cycle = cycle }, null, ct));
        if (uncovered > 0)
        {
            return false;
        }

        await c.ExecuteAsync(database.Command("UPDATE scan_cycles SET finished_at = @now WHERE id = @cycle AND finished_at IS NULL", new { now, cycle }, null, ct));
        return true;
    }

    /// <summary>Records that this agent is alive (its last check-in).</summary>
    public async Task CheckInAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await CheckInAsync(c, now, ct);
    }

    /// <summary>Records a clean stop: the agent is no longer counted as a member.</summary>
    public async Task CheckOutAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command("UPDATE agent_instances SET stopped_at = @now, last_seen_at = @now WHERE id = @Owner", new { now, Owner }, null, ct));
    }

    private async Task CheckInAsync(System.Data.Common.DbConnection c, DateTimeOffset now, CancellationToken ct) =>
        await c.ExecuteAsync(database.Command(
            """
            INSERT INTO agent_instances (id, host, pid, version, started_at, last_seen_at)
            VALUES (@Id, @Host, @Pid, @Version, @now, @now)
            ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, stopped_at = NULL
            """,
            new { instance.Id, instance.Host, instance.Pid, AgentInstance.Version, now },
            null,
            ct));
}
