using System.Collections.Concurrent;

namespace AuditAgent.Simulator;

/// <summary>What the simulator served, for tests and the benchmark to read.</summary>
public sealed class SimulatorCounters
{
    private readonly ConcurrentDictionary<string, long> _byKind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _byMailbox = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string, string), long> _byKindAndMailbox = new();
    private readonly ConcurrentDictionary<string, long> _roundStarts = new(StringComparer.OrdinalIgnoreCase);
    private long _httpRequests;
    private long _bytesSent;
    private long _messagesServed;
    private long _throttled;
    private long _faults;
    private int _maxMailboxConcurrency;

    /// <summary>HTTP requests received (a $batch counts once).</summary>
    public long HttpRequests => Interlocked.Read(ref _httpRequests);

    /// <summary>Response body bytes sent.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long MessagesServed => Interlocked.Read(ref _messagesServed);

    /// <summary>429s for going over the per-mailbox concurrency limit.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    /// <summary>Random 429/503 answers and interceptor faults.</summary>
    public long FaultsInjected => Interlocked.Read(ref _faults);

    /// <summary>The most operations seen in flight at once for one mailbox.</summary>
    public int MaxMailboxConcurrency => Volatile.Read(ref _maxMailboxConcurrency);

    /// <summary>Operations of one kind (inside $batch too).</summary>
    public long Operations(string kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>Operations that touched one mailbox (by user id, inside $batch too).</summary>
    public long MailboxOperations(string mailboxId) => _byMailbox.GetValueOrDefault(mailboxId);

    public long MailboxOperations(string kind, string mailboxId) => _byKindAndMailbox.GetValueOrDefault((kind, mailboxId));

    public IReadOnlyDictionary<string, long> OperationsByKind => new Dictionary<string, long>(_byKind);

    public IReadOnlyDictionary<string, long> OperationsByMailbox => new Dictionary<string, long>(_byMailbox);

    /// <summary>Delta requests without a token per mailbox: how many times each mailbox's Sent Items was read from the start.</summary>
    public IReadOnlyDictionary<string, long> RoundStartsByMailbox => new Dictionary<string, long>(_roundStarts);

    public void Reset()
    {
        _byKind.Clear();
        _byMailbox.Clear();
        _byKindAndMailbox.Clear();
        _roundStarts.Clear();
        Interlocked.Exchange(ref _httpRequests, 0);
        Interlocked.Exchange(ref _bytesSent, 0);
        Interlocked.Exchange(ref _messagesServed, 0);
        Interlocked.Exchange(ref _throttled, 0);
        Interlocked.Exchange(ref _faults, 0);
        Interlocked.Exchange(ref _maxMailboxConcurrency, 0);
    }

    internal long CountOperation(string kind, string? mailboxId)
    {
        var sequence = _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (mailboxId is not null)
        {
            _byMailbox.AddOrUpdate(mailboxId, 1, (_, n) => n + 1);
            sequence = _byKindAndMailbox.AddOrUpdate((kind, mailboxId), 1, (_, n) => n + 1);
        }

        return sequence;
    }

    internal void CountHttpRequest(long bytes)
    {
        Interlocked.Increment(ref _httpRequests);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void CountRoundStart(string mailboxId) => _roundStarts.AddOrUpdate(mailboxId, 1, (_, n) => n + 1);

    internal void CountMessages(int n) => Interlocked.Add(ref _messagesServed, n);

    internal void CountThrottled() => Interlocked.Increment(ref _throttled);

    internal void CountFault() => Interlocked.Increment(ref _faults);

    internal void ObserveConcurrency(int inFlight)
    {
        int current;
        while (inFlight > (current = Volatile.Read(ref _maxMailboxConcurrency)))
        {
            if (Interlocked.CompareExchange(ref _maxMailboxConcurrency, inFlight, current) == current)
            {
                return;
            }
        }
    }
}
