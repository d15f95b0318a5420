namespace AuditAgent.Core.Detection;

/// <summary>
/// Which sent times can be true. Exchange Online did not exist before 1990, and a message cannot be
/// sent more than a day after the clock that reads it (the agent refuses to sync when its clock and
/// Graph's disagree by minutes). A message outside these bounds is malformed: it is counted and kept
/// out of the rules, whose windows are computed from these times.
/// </summary>
public static class SentTimes
{
    public static readonly DateTimeOffset Earliest = new(1990, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(1);

    public static bool IsPlausible(DateTimeOffset sent, DateTimeOffset now) => sent >= Earliest && sent <= now + MaxAhead;

    /// <summary>
    /// The part of the check that needs no clock: what the incident rules apply to stored findings (an
    /// older version stored times before 1990, which broke the windows computed from them).
    /// </summary>
    public static bool IsAfterEarliest(DateTimeOffset sent) => sent >= Earliest;

    public static string Describe(DateTimeOffset sent) =>
        $"its sent time {sent.UtcDateTime:yyyy-MM-dd HH:mm}Z is before {Earliest:yyyy} or more than a day ahead of the clock";
}
