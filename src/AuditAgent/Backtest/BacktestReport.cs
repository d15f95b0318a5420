using AuditAgent.Core.Backtest;
using AuditAgent.Storage;

namespace AuditAgent.Backtest;

/// <summary>The rules an admin chooses between, with the thresholds to try.</summary>
/// <param name="WarnOver">Warn above this many recipients (MailTips' large audience defaults to 25).</param>
/// <param name="BlockOver">Block above this many (a Purview DLP rule's RecipientCountOver).</param>
/// <param name="ExternalOnly">The DLP rule counts only recipients outside the organisation.</param>
/// <param name="Days">How far back to replay.</param>
public sealed record BacktestRequest(int WarnOver = 25, int BlockOver = 100, bool ExternalOnly = false, int Days = 30);

/// <summary>What each rule would have done over the period, and the threshold that catches every incident with the fewest interruptions.</summary>
public sealed record BacktestResult(
    BacktestRequest Request,
    BacktestHistory History,
    IReadOnlyList<RuleOutcome> Rules,
    IReadOnlyList<Recommendation> Recommendations)
{
    /// <summary>The recommendation for what a prompt before sending looks at (visible external recipients): the one the digest carries.</summary>
    public Recommendation? Best => Recommendations.FirstOrDefault(r => r.Metric == RuleMetric.VisibleExternal);

    /// <summary>Interruptions per week at each threshold of visible external recipients, for the console's chart.</summary>
    public IReadOnlyList<(int Over, double PerWeek)> Curve(int upTo) => RuleReplay.Curve(History.Legitimate[RuleMetric.VisibleExternal], History.Period, upTo);

    public int IncidentCount => History.Incidents[RuleMetric.VisibleExternal].Count;
}

/// <summary>Replays MailTips, a Purview DLP rule and a prompt-before-send add-in against the count rows of past messages.</summary>
public sealed class BacktestReport(BacktestQueries queries, TimeProvider time)
{
    public async Task<BacktestResult> RunAsync(BacktestRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var history = await queries.LoadAsync(now.AddDays(-request.Days), now, ct);
        PreventionRule[] rules =
        [
            new($"MailTips large audience: warn above {request.WarnOver} recipients", RuleMetric.AllRecipients, request.WarnOver, null),
            new($"Purview DLP RecipientCountOver: block above {request.BlockOver}{(request.ExternalOnly ? " external" : "")} recipients", request.ExternalOnly ? RuleMetric.ExternalRecipients : RuleMetric.AllRecipients, null, request.BlockOver),
            new($"Prompt before sending (add-in): warn above {request.WarnOver}, block above {request.BlockOver} visible external recipients", RuleMetric.VisibleExternal, request.WarnOver, request.BlockOver),
        ];
        var outcomes = rules.Select(r => RuleReplay.Replay(r, history.Legitimate[r.Metric], history.Incidents[r.Metric], history.Period)).ToList();
        var recommendations = Enum.GetValues<RuleMetric>()
            .Select(m => RuleReplay.Recommend(m, history.Legitimate[m], history.Incidents[m], history.Period))
            .OfType<Recommendation>()
            .ToList();
        return new BacktestResult(request, history, outcomes, recommendations);
    }

    /// <summary>The metric in words, for a recommendation.</summary>
    public static string Describe(RuleMetric metric) => metric switch
    {
        RuleMetric.AllRecipients => "recipients (all, internal too)",
        RuleMetric.ExternalRecipients => "external recipients (Bcc too)",
        _ => "visible external recipients (To and Cc)",
    };
}
