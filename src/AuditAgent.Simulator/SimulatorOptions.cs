namespace AuditAgent.Simulator;

public sealed record SimulatorOptions
{
    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Added to every Graph operation (inside a $batch too), to stand in for network and service time.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Share of operations answered with a random 429 or 503 (0 to 1), drawn from <see cref="FaultSeed"/>.</summary>
    public double FaultRate { get; init; }

    public int FaultSeed { get; init; } = 1;

    /// <summary>
    /// Share of HTTP responses broken on the wire (0 to 1): the connection reset before an answer, or the
    /// body cut off half way. Drawn from <see cref="FaultSeed"/>.
    /// </summary>
    public double TransportFaultRate { get; init; }

    /// <summary>Sent as Retry-After on every 429 and 503 (seconds). Graph's real values are 1 to a few seconds.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Graph's Outlook limit: concurrent requests per (app, mailbox).</summary>
    public int MailboxConcurrencyLimit { get; init; } = 4;

    /// <summary>The largest page odata.maxpagesize may ask for on messages (Graph's own maximum is unconfirmed).</summary>
    public int MaxPageSize { get; init; } = 1000;

    /// <summary>The most users one page of /users holds ($top is honoured up to this; Graph's own maximum is 999).</summary>
    public int MaxUsersPageSize { get; init; } = 999;

    /// <summary>Application permissions carried in the token's roles claim.</summary>
    public IReadOnlyList<string> Roles { get; init; } = ["Mail.ReadBasic.All", "User.Read.All", "Domain.Read.All", "Mail.Send"];

    /// <summary>
    /// Called before every operation; a non-null answer replaces it. Tests use it to fail, stall or
    /// kill at an exact point.
    /// </summary>
    public Func<SimOperation, SimFault?>? Interceptor { get; init; }

    /// <summary>
    /// Keep every Graph request (method, URL, Prefer header, body) until the next reset, for the benchmark's
    /// replay client to send again: the same requests without the agent, the floor of what they cost.
    /// </summary>
    public bool RecordRequests { get; init; }
}

/// <summary>
/// A Graph request as the agent sent it; <paramref name="Chain"/> is the mailbox whose pages follow one another,
/// <see cref="Directory"/> for the tenant's own (domains, users), null for a $batch.
/// </summary>
public sealed record RecordedRequest(string Method, string Url, string? Prefer, string? Body, string? Chain)
{
    public const string Directory = "directory";
}

/// <summary>One Graph operation as the simulator sees it (a $batch holds several).</summary>
/// <param name="Kind">users, user, manager, domains, delta, messages, sendMail or batch.</param>
/// <param name="Sequence">1 for the first operation of this kind on this mailbox (or tenant-wide), then 2, ...</param>
public sealed record SimOperation(string Kind, string? MailboxId, long Sequence);

/// <summary>An answer forced by <see cref="SimulatorOptions.Interceptor"/>.</summary>
public sealed record SimFault(int Status, string Code, string Message, int? RetryAfterSeconds = null)
{
    /// <summary>A Retry-After header sent exactly as given (Graph sometimes sends decimals such as "0.5").</summary>
    public string? RetryAfter { get; init; }

    /// <summary>How long to wait before answering (a slow Graph). With <see cref="Status"/> 0 the real answer follows.</summary>
    public TimeSpan Stall { get; init; }

    /// <summary>How the answer travels (with <see cref="Status"/> 0, the real answer): whole, stalled, trickled, or with a link that repeats.</summary>
    public SimWire Wire { get; init; }

    /// <summary>Only a stall: the operation is then answered normally.</summary>
    public static SimFault Slow(TimeSpan stall) => new(0, "", "") { Stall = stall };

    /// <summary>The real answer, delivered the given way.</summary>
    public static SimFault Delivered(SimWire wire) => new(0, "", "") { Wire = wire };
}

/// <summary>Ways a network or a broken Graph front end delivers an answer (a $batch inherits its parts' stalls).</summary>
public enum SimWire
{
    Whole,

    /// <summary>Headers and <c>{"value":[</c>, then nothing until the client gives up.</summary>
    StalledBody,

    /// <summary>The body one byte every half second.</summary>
    TrickledBody,

    /// <summary>The page as usual, but its @odata.nextLink is the request's own URL: paging never advances.</summary>
    RepeatedLink,

    /// <summary>Headers and half of the body, then the connection drops (an answer or an error cut off on the way).</summary>
    CutBody,
}
