using Dapper;

namespace AuditAgent.Storage;

public sealed record SinkState
{
    public string Name { get; init; } = "";

    public long LastEventId { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public string? LastError { get; init; }

    public long Delivered { get; init; }
}

public sealed record DeadLetter
{
    public string Sink { get; init; } = "";

    public long EventId { get; init; }

    public string Error { get; init; } = "";

    public DateTimeOffset At { get; init; }

    /// <summary>`events redeliver` asked for it to be sent again.</summary>
    public bool Redeliver { get; init; }
}

/// <summary>Each push sink's checkpoint in the event stream, its retry state and its dead letters.</summary>
public sealed class SinkStore(Database database)
{
    /// <summary>
    /// The right to push for as long as the returned handle lives, or null when another agent sharing the
    /// PostgreSQL database has it (SQLite has one agent).
    /// </summary>
    public async Task<IAsyncDisposable?> TryLeadAsync(CancellationToken ct)
    {
        if (!database.IsPostgreSql)
        {
            return new Lead(null);
        }

        var c = await database.OpenAsync(ct);
        if (await c.ExecuteScalarAsync<bool>(database.Command("SELECT pg_try_advisory_lock(@key)", new { key = LockKeys.EventPush }, ct: ct)))
        {
            return new Lead(c);
        }

        await c.DisposeAsync();
        return null;
    }

    private sealed class Lead(System.Data.Common.DbConnection? connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is not null)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = LockKeys.EventPush });
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>The sink's state; a sink seen for the first time starts after the newest event (it is not flooded with history).</summary>
    public async Task<SinkState> GetOrStartAsync(string name, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "INSERT INTO event_sinks (name, last_event_id) SELECT @name, COALESCE(MAX(id), 0) FROM events WHERE 1 = 1 ON CONFLICT (name) DO NOTHING",
            new { name }, ct: ct));
        return await c.QuerySingleAsync<SinkState>(database.Command("SELECT * FROM event_sinks WHERE name = @name", new { name }, ct: ct));
    }

    public async Task<IReadOnlyList<SinkState>> ListAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<SinkState>(database.Command("SELECT * FROM event_sinks ORDER BY name", ct: ct))).ToList();
    }

    /// <summary>The event went out (or was not for this sink): the checkpoint moves past it.</summary>
    public async Task AdvanceAsync(string name, long eventId, int delivered, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE event_sinks SET last_event_id = @eventId, attempts = 0, next_attempt_at = NULL, last_error = NULL, delivered = delivered + @delivered WHERE name = @name AND last_event_id < @eventId",
            new { name, eventId, delivered }, ct: ct));
    }

    /// <summary>An attempt failed: wait until <paramref name="retryAt"/>.</summary>
    public async Task FailAsync(string name, string error, DateTimeOffset retryAt, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "UPDATE event_sinks SET attempts = attempts + 1, next_attempt_at = @retryAt, last_error = @error WHERE name = @name",
            new { name, error, retryAt }, ct: ct));
    }

    /// <summary>Too many attempts: the events are set aside, and the checkpoint moves to <paramref name="through"/> in the same transaction.</summary>
    public async Task DeadLetterAsync(string name, IReadOnlyList<long> eventIds, long through, string error, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(database.Command(
            "INSERT INTO event_dead_letters (sink, event_id, error, at) VALUES (@name, @eventId, @error, @now)",
            eventIds.Select(eventId => new { name, eventId, error, now }), tx, ct));
        await c.ExecuteAsync(database.Command(
            "UPDATE event_sinks SET last_event_id = @through, attempts = 0, next_attempt_at = NULL, last_error = @error WHERE name = @name",
            new { name, through, error }, tx, ct));
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<DeadLetter>(database.Command(
            "SELECT sink, event_id AS EventId, error, at, redeliver FROM event_dead_letters ORDER BY id", ct: ct))).ToList();
    }

    /// <summary>Asks for a sink's dead letters (those from <paramref name="fromEventId"/> on) to be sent again; returns how many.</summary>
    public async Task<int> RequestRedeliveryAsync(string name, long fromEventId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteAsync(database.Command(
            "UPDATE event_dead_letters SET redeliver = @yes WHERE sink = @name AND event_id >= @fromEventId", new { name, fromEventId, yes = true }, ct: ct));
    }

    public async Task<IReadOnlyList<long>> RedeliveriesAsync(string name, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<long>(database.Command(
            "SELECT event_id FROM event_dead_letters WHERE sink = @name AND redeliver = @yes ORDER BY event_id LIMIT 100", new { name, yes = true }, ct: ct))).ToList();
    }

    /// <summary>A dead letter the receiver took at last: it is one no more.</summary>
    public async Task RedeliveredAsync(string name, long eventId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            "DELETE FROM event_dead_letters WHERE sink = @name AND event_id = @eventId", new { name, eventId }, ct: ct));
        await c.ExecuteAsync(database.Command("UPDATE event_sinks SET delivered = delivered + 1 WHERE name = @name", new { name }, ct: ct));
    }
}
