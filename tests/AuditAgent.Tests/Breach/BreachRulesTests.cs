using AuditAgent.Core.Breach;

namespace AuditAgent.Tests.Breach;

/// <summary>What a breach decision must say before it is recorded (GDPR Art. 33 and 34), as a table.</summary>
public sealed class BreachRulesTests
{
    private static readonly DateTimeOffset Detected = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    private static BreachAssessment Notify() => new(RiskLevel.Risk, "30 customers' work addresses", true, null, SubjectNotice.No, null, null, Detected, null, null, null, null);

    public static TheoryData<string, BreachAssessment, double, string?> Cases() => new()
    {
        { "a risk, notified in time", Notify(), 5, null },
        { "no reasons", Notify() with { Reasons = " " }, 5, "say why the risk is what it is" },
        { "not notified, unlikely, with a rationale", Notify() with { Risk = RiskLevel.Unlikely, NotifyAuthority = false, NoNotifyRationale = "two colleagues' partner addresses" }, 5, null },
        { "not notified without a rationale", Notify() with { Risk = RiskLevel.Unlikely, NotifyAuthority = false }, 5, "needs its rationale" },
        { "a risk not notified", Notify() with { NotifyAuthority = false, NoNotifyRationale = "small list" }, 5, "only an unlikely risk may go unnotified" },
        { "high risk, people not told", Notify() with { Risk = RiskLevel.HighRisk }, 5, "a high risk means telling the people affected" },
        { "high risk, told", Notify() with { Risk = RiskLevel.HighRisk, TellSubjects = SubjectNotice.Yes }, 5, null },
        { "not required without a ground", Notify() with { Risk = RiskLevel.HighRisk, TellSubjects = SubjectNotice.NotRequired }, 5, "needs its Art. 34(3) ground" },
        { "not required, risk removed", Notify() with { Risk = RiskLevel.HighRisk, TellSubjects = SubjectNotice.NotRequired, Ground = Art34Ground.RiskRemoved, GroundDetail = "every recipient confirmed deletion" }, 5, null },
        { "awareness moved without a reason", Notify() with { AwareAt = Detected.AddHours(-20) }, 5, "awareness differs from the detection time" },
        { "awareness moved with a reason", Notify() with { AwareAt = Detected.AddHours(-20), AwareChangeReason = "a customer complained the evening before" }, 5, null },
        { "decided after 72 hours without delay reasons", Notify(), 80, "reasons for the delay" },
        { "decided after 72 hours with delay reasons", Notify() with { DelayReasons = "the list's owner was on leave" }, 80, null },
        { "awareness moved back makes a decision late", Notify() with { AwareAt = Detected.AddHours(-70), AwareChangeReason = "reported by phone" }, 5, "reasons for the delay" },
        { "a notification date without notifying", Notify() with { Risk = RiskLevel.Unlikely, NotifyAuthority = false, NoNotifyRationale = "x", NotifiedAt = Detected }, 5, "a notification date belongs to a decision to notify" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ADecision_IsRecordedOnlyWhenItMeetsTheRules(string story, BreachAssessment decision, double hoursAfterDetection, string? refusal)
    {
        var problems = BreachRules.Problems(decision, Detected, Detected.AddHours(hoursAfterDetection));

        if (refusal is null)
        {
            Assert.True(problems.Count == 0, $"{story}: {string.Join(" ", problems)}");
        }
        else
        {
            Assert.Contains(problems, p => p.Contains(refusal, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TheSummary_SaysTheDecisionInWords()
    {
        var text = BreachRules.Summary(Notify() with { Risk = RiskLevel.HighRisk, TellSubjects = SubjectNotice.NotRequired, Ground = Art34Ground.DisproportionateEffort, GroundDetail = "no addresses kept; a notice on the website", NotifiedAt = Detected.AddHours(30), NotificationReference = "ICO-123" });

        Assert.Equal("a high risk to people; notify the supervisory authority (notified 2026-12-01 15:00 UTC, reference ICO-123); telling the people is not required (Art. 34(3)(c): no addresses kept; a notice on the website). Reasons: 30 customers' work addresses", text);
    }
}
