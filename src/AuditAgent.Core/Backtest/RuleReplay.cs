namespace AuditAgent.Core.Backtest;

/// <summary>What a prevention rule counts in a message before it is sent.</summary>
public enum RuleMetric
{
    /// <summary>Every recipient in To, Cc and Bcc (MailTips' large audience, DLP RecipientCountOver).</summary>
    AllRecipients,

    /// <summary>Recipients outside the organisation, Bcc included (DLP RecipientCountOver, external only).</summary>
    ExternalRecipients,

    /// <summary>Outside recipients every other recipient can see, in To and Cc (what a prompt-before-send add-in looks at).</summary>
    VisibleExternal,
}

/// <summary>A prevention rule to replay: warn above one count, block above another (either may be absent).</summary>
public sealed record PreventionRule(string Name, RuleMetric Metric, int? WarnOver, int? BlockOver);

/// <summary>How many past messages had each count (of the rule's metric): the legitimate ones, not part of an incident.</summary>
public sealed record CountHistogram(IReadOnlyDictionary<int, long> MessagesByCount)
{
    public long Over(int threshold) => MessagesByCount.Where(x => x.Key > threshold).Sum(x => x.Value);
}

/// <summary>An incident, reduced to the largest count among its messages (a rule stops it if it stops any of them).</summary>
public sealed record IncidentCount(long IncidentId, int Count);

/// <summary>The period replayed: its length and how many mailboxes sent in it.</summary>
public sealed record ReplayPeriod(double Weeks, int Users);

/// <summary>What a rule would have done: incidents warned, blocked and missed; legitimate messages interrupted.</summary>
public sealed record RuleOutcome(
    PreventionRule Rule,
    IReadOnlyList<long> IncidentsWarned,
    IReadOnlyList<long> IncidentsBlocked,
    IReadOnlyList<long> IncidentsMissed,
    long MessagesWarned,
    long MessagesBlocked,
    ReplayPeriod Period)
{
    public double WarnedPerWeek => Period.Weeks > 0 ? MessagesWarned / Period.Weeks : 0;

    public double BlockedPerWeek => Period.Weeks > 0 ? MessagesBlocked / Period.Weeks : 0;

    public double WarnedPerWeekPer100Users => Period.Users > 0 ? WarnedPerWeek * 100 / Period.Users : 0;

    public double BlockedPerWeekPer100Users => Period.Users > 0 ? BlockedPerWeek * 100 / Period.Users : 0;
}

/// <summary>
/// The threshold that would have caught every incident with the fewest interruptions: the largest count below
/// every incident's. Null when there was no incident to catch.
/// </summary>
public sealed record Recommendation(RuleMetric Metric, int Over, long Interruptions, double PerWeek, double PerWeekPer100Users);

/// <summary>Replays prevention rules against counts of past messages. Pure: the history comes in as arguments.</summary>
public static class RuleReplay
{
    public static RuleOutcome Replay(PreventionRule rule, CountHistogram legitimate, IReadOnlyList<IncidentCount> incidents, ReplayPeriod period)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(legitimate);
        ArgumentNullException.ThrowIfNull(incidents);
        bool Blocks(int count) => rule.BlockOver is { } b && count > b;
        bool Warns(int count) => !Blocks(count) && rule.WarnOver is { } w && count > w;
        var blocked = legitimate.MessagesByCount.Where(x => Blocks(x.Key)).Sum(x => x.Value);
        var warned = legitimate.MessagesByCount.Where(x => Warns(x.Key)).Sum(x => x.Value);
        return new RuleOutcome(
            rule,
            [.. incidents.Where(i => Warns(i.Count)).Select(i => i.IncidentId)],
            [.. incidents.Where(i => Blocks(i.Count)).Select(i => i.IncidentId)],
            [.. incidents.Where(i => !Warns(i.Count) && !Blocks(i.Count)).Select(i => i.IncidentId)],
            warned,
            blocked,
            period);
    }

    /// <summary>The largest "over" threshold that stops every incident, and what it would have interrupted.</summary>
    public static Recommendation? Recommend(RuleMetric metric, CountHistogram legitimate, IReadOnlyList<IncidentCount> incidents, ReplayPeriod period)
    {
        ArgumentNullException.ThrowIfNull(legitimate);
        ArgumentNullException.ThrowIfNull(incidents);
        ArgumentNullException.ThrowIfNull(period);
        if (incidents.Count == 0)
        {
            return null;
        }

        var over = Math.Max(0, incidents.Min(i => i.Count) - 1);
        var interruptions = legitimate.Over(over);
        var perWeek = period.Weeks > 0 ? interruptions / period.Weeks : 0;
        return new Recommendation(metric, over, interruptions, perWeek, period.Users > 0 ? perWeek * 100 / period.Users : 0);
    }

    /// <summary>Interruptions per week at every threshold from 1 to <paramref name="upTo"/>: the curve the console draws.</summary>
    public static IReadOnlyList<(int Over, double PerWeek)> Curve(CountHistogram legitimate, ReplayPeriod period, int upTo)
    {
        ArgumentNullException.ThrowIfNull(legitimate);
        ArgumentNullException.ThrowIfNull(period);
        return [.. Enumerable.Range(1, Math.Max(1, upTo)).Select(t => (t, period.Weeks > 0 ? legitimate.Over(t) / period.Weeks : 0))];
    }
}
