namespace AuditAgent.Graph;

/// <summary>
/// Graph's clock against this machine's real clock (deliberately not a TimeProvider: it measures the
/// machine), as the Date header of its answers gives it (to the second). Sent times are checked
/// against it rather than this machine's clock, and a first sync is refused while the two disagree: a
/// clock far ahead would read an empty look-back window and then mark the mailbox in sync, losing its
/// findings for good.
/// </summary>
public sealed class GraphClock
{
    /// <summary>More than this between this machine and Graph refuses a first sync.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(5);

    private long _offsetTicks;
    private int _observed;

    /// <summary>Graph's time minus this machine's, once Graph has answered; null before.</summary>
    public TimeSpan? Skew => Volatile.Read(ref _observed) == 1 ? TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks)) : null;

    /// <summary>Graph's time now: this machine's clock corrected by the last skew seen.</summary>
    public DateTimeOffset Now => DateTimeOffset.UtcNow + (Skew ?? TimeSpan.Zero);

    public void Observe(DateTimeOffset graphDate, DateTimeOffset localNow)
    {
        // The header has whole seconds: half a second of rounding is not skew.
        var offset = graphDate - localNow.AddTicks(-(localNow.Ticks % TimeSpan.TicksPerSecond));
        Interlocked.Exchange(ref _offsetTicks, offset.Ticks);
        Volatile.Write(ref _observed, 1);
    }

    /// <summary>Why a first sync must wait, or null when the clocks agree (or Graph has not answered yet).</summary>
    public string? FirstSyncRefusal() => Skew is { } skew && skew.Duration() > MaxSkew
        ? $"this machine's clock is {Describe(skew.Duration())} {(skew < TimeSpan.Zero ? "ahead of" : "behind")} Microsoft Graph's; a first sync would read the wrong look-back window, so it waits until the clock is corrected (NTP)"
        : null;

    private static string Describe(TimeSpan t) => t.TotalDays >= 2 ? $"{t.TotalDays:0} days" : t.TotalHours >= 2 ? $"{t.TotalHours:0} hours" : $"{t.TotalMinutes:0} minutes";
}

/// <summary>Feeds every answer's Date header to the <see cref="GraphClock"/>.</summary>
internal sealed class GraphClockHandler(GraphClock clock) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.Headers.Date is { } date)
        {
            clock.Observe(date, DateTimeOffset.UtcNow);
        }

        return response;
    }
}
