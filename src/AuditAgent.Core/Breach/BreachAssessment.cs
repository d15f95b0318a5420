namespace AuditAgent.Core.Breach;

/// <summary>How likely the breach is to harm the people whose addresses were exposed (GDPR Art. 33(1), 34(1)).</summary>
public enum RiskLevel
{
    /// <summary>Unlikely to result in a risk to people: the authority need not be notified (the record is still kept, Art. 33(5)).</summary>
    Unlikely,

    /// <summary>A risk: the authority is notified within 72 hours of awareness.</summary>
    Risk,

    /// <summary>A high risk: the people are told too (Art. 34(1)), unless Art. 34(3) applies.</summary>
    HighRisk,
}

/// <summary>Whether the people affected are told (Art. 34).</summary>
public enum SubjectNotice
{
    Yes,
    No,

    /// <summary>High risk, but one of Art. 34(3)'s grounds applies.</summary>
    NotRequired,
}

/// <summary>The grounds of Art. 34(3) on which telling the people is not required.</summary>
public enum Art34Ground
{
    /// <summary>(a) the data was unintelligible to anyone not authorised (e.g. encrypted).</summary>
    Unintelligible,

    /// <summary>(b) measures taken since ensure the high risk is no longer likely to materialise.</summary>
    RiskRemoved,

    /// <summary>(c) it would need disproportionate effort: a public communication instead.</summary>
    DisproportionateEffort,
}

/// <summary>
/// A privacy officer's decision on an incident as a personal data breach: the risk and why, whether the
/// supervisory authority is notified (and why not), whether the people are told (or on which Art. 34(3)
/// ground not), when the organisation became aware (detection unless recorded otherwise, with a reason),
/// and, for a decision after the 72 hours, the reasons for the delay (Art. 33(1)).
/// </summary>
public sealed record BreachAssessment(
    RiskLevel Risk,
    string Reasons,
    bool NotifyAuthority,
    string? NoNotifyRationale,
    SubjectNotice TellSubjects,
    Art34Ground? Ground,
    string? GroundDetail,
    DateTimeOffset AwareAt,
    string? AwareChangeReason,
    string? DelayReasons,
    DateTimeOffset? NotifiedAt,
    string? NotificationReference);

/// <summary>The rules a decision must meet, and the clock it runs against.</summary>
public static class BreachRules
{
    /// <summary>When the authority must have been notified: 72 hours after awareness.</summary>
    public static DateTimeOffset DeadlineOf(DateTimeOffset awareAt) => Incidents.NotificationClock.DueAt(awareAt);

    /// <summary>Everything that keeps the decision from being recorded, in words a privacy officer acts on; empty when it may be.</summary>
    public static IReadOnlyList<string> Problems(BreachAssessment a, DateTimeOffset detectedAt, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(a);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(a.Reasons))
        {
            problems.Add("say why the risk is what it is (the reasons are part of the record, Art. 33(5)).");
        }

        if (!a.NotifyAuthority && a.Risk != RiskLevel.Unlikely)
        {
            problems.Add("a breach likely to result in a risk to people is notified to the supervisory authority (Art. 33(1)); only an unlikely risk may go unnotified.");
        }

        if (!a.NotifyAuthority && string.IsNullOrWhiteSpace(a.NoNotifyRationale))
        {
            problems.Add("not notifying the authority needs its rationale (Art. 33(5): the record must let the authority check the decision).");
        }

        if (a.Risk == RiskLevel.HighRisk && a.TellSubjects == SubjectNotice.No)
        {
            problems.Add("a high risk means telling the people affected (Art. 34(1)), unless one of Art. 34(3)'s grounds applies: choose 'not required' and the ground.");
        }

        if (a.TellSubjects == SubjectNotice.NotRequired && (a.Ground is null || string.IsNullOrWhiteSpace(a.GroundDetail)))
        {
            problems.Add("'not required' needs its Art. 34(3) ground (unintelligible data, risk removed since, disproportionate effort) and what makes it apply.");
        }

        if (a.AwareAt > decidedAt)
        {
            problems.Add("the organisation cannot have become aware after the decision.");
        }

        if (a.AwareAt != detectedAt && string.IsNullOrWhiteSpace(a.AwareChangeReason))
        {
            problems.Add("awareness differs from the detection time: say why (it moves the 72-hour deadline).");
        }

        if (decidedAt > DeadlineOf(a.AwareAt) && a.NotifyAuthority && string.IsNullOrWhiteSpace(a.DelayReasons))
        {
            problems.Add($"the decision comes after the 72 hours (due {DeadlineOf(a.AwareAt):yyyy-MM-dd HH:mm} UTC): a late notification gives the reasons for the delay (Art. 33(1)).");
        }

        if (a.NotifiedAt is not null && !a.NotifyAuthority)
        {
            problems.Add("a notification date belongs to a decision to notify the authority.");
        }

        return problems;
    }

    /// <summary>The decision in one line, for the timeline, the register and events.</summary>
    public static string Summary(BreachAssessment a)
    {
        ArgumentNullException.ThrowIfNull(a);
        var risk = a.Risk switch { RiskLevel.Unlikely => "unlikely to result in a risk", RiskLevel.Risk => "a risk to people", _ => "a high risk to people" };
        var authority = a.NotifyAuthority
            ? "notify the supervisory authority" + (a.NotifiedAt is { } at ? $" (notified {at:yyyy-MM-dd HH:mm} UTC{(a.NotificationReference is { Length: > 0 } r ? $", reference {r}" : "")})" : "")
            : $"do not notify the authority: {a.NoNotifyRationale}";
        var subjects = a.TellSubjects switch
        {
            SubjectNotice.Yes => "tell the people affected",
            SubjectNotice.No => "do not tell the people affected",
            _ => $"telling the people is not required (Art. 34(3)({GroundLetter(a.Ground)}): {a.GroundDetail})",
        };
        return $"{risk}; {authority}; {subjects}. Reasons: {a.Reasons}";
    }

    public static string GroundLetter(Art34Ground? ground) => ground switch
    {
        Art34Ground.Unintelligible => "a",
        Art34Ground.RiskRemoved => "b",
        Art34Ground.DisproportionateEffort => "c",
        _ => "?",
    };

    public static string Name(this RiskLevel risk) => risk switch { RiskLevel.Unlikely => "unlikely", RiskLevel.Risk => "risk", _ => "high" };

    public static string Name(this SubjectNotice notice) => notice switch { SubjectNotice.Yes => "yes", SubjectNotice.No => "no", _ => "not-required" };

    public static string Name(this Art34Ground ground) => ground switch
    {
        Art34Ground.Unintelligible => "unintelligible",
        Art34Ground.RiskRemoved => "risk-removed",
        _ => "disproportionate-effort",
    };

    public static bool TryParseRisk(string? text, out RiskLevel risk)
    {
        (var ok, risk) = text switch { "unlikely" => (true, RiskLevel.Unlikely), "risk" => (true, RiskLevel.Risk), "high" => (true, RiskLevel.HighRisk), _ => (false, RiskLevel.Unlikely) };
        return ok;
    }

    public static bool TryParseNotice(string? text, out SubjectNotice notice)
    {
        (var ok, notice) = text switch { "yes" => (true, SubjectNotice.Yes), "no" => (true, SubjectNotice.No), "not-required" => (true, SubjectNotice.NotRequired), _ => (false, SubjectNotice.No) };
        return ok;
    }

    public static bool TryParseGround(string? text, out Art34Ground ground)
    {
        (var ok, ground) = text switch
        {
            "unintelligible" => (true, Art34Ground.Unintelligible),
            "risk-removed" => (true, Art34Ground.RiskRemoved),
            "disproportionate-effort" => (true, Art34Ground.DisproportionateEffort),
            _ => (false, Art34Ground.Unintelligible),
        };
        return ok;
    }
}
