using AuditAgent.Core.Detection;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;

namespace AuditAgent.Tests.Incidents;

/// <summary>
/// The pure engine at the edges of its rules, as plain function calls: the grouping window, the
/// re-exposure share, the consumer share, the severity thresholds, the repeat-sender window and an
/// allowlist entry's expiry, each exactly at, just inside and just outside its boundary.
/// </summary>
public sealed class IncidentEngineEdgeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly IncidentRules Rules = new();

    private static List<ExposedRecipient> People(int count, string domain = "c{0}.com", int from = 0) =>
        [.. Enumerable.Range(from, count).Select(i => new ExposedRecipient($"p{i}@{string.Format(System.Globalization.CultureInfo.InvariantCulture, domain, i % 4)}", null, RecipientField.To))];

    private static ExposureInput Finding(long id, DateTimeOffset sent, IReadOnlyList<ExposedRecipient> recipients, string subject = "List", string sender = "ann@contoso.com") =>
        new(id, sender, $"<m{id}@contoso.com>", sender, subject, sent, sent.AddMinutes(5), recipients);

    private static IncidentRunResult Run(IReadOnlyList<IncidentState> incidents, DateTimeOffset now, IReadOnlyList<AllowlistEntry>? allowlist = null, params ExposureInput[] findings) =>
        IncidentEngine.Run(incidents, new Dictionary<string, KnownMessage>(), findings, [],
            new IncidentContext(Rules, new Allowlist(allowlist ?? [], now), new ConsumerDomains(["gmail.com"]), DefaultPlaybook.Instance, now));

    [Theory]
    [InlineData(0, 1)] // the same moment: one blast
    [InlineData(24 * 60, 1)] // exactly the grouping window: still one blast
    [InlineData(24 * 60 + 1, 2)] // a minute later: a second incident
    public void Grouping_SameSenderAndSubject_IsOneIncidentWithinTheWindowInclusive(int minutesApart, int incidents)
    {
        var result = Run([], T0.AddDays(2), null,
            Finding(1, T0, People(12)),
            Finding(2, T0.AddMinutes(minutesApart), People(12, from: 100)));

        Assert.Equal(incidents, result.Changed.Count);
    }

    [Theory]
    [InlineData(10, 20, true)] // exactly half: a re-exposure
    [InlineData(9, 20, false)] // just under half
    [InlineData(11, 20, true)]
    public void ReExposure_IsHalfOrMoreOfTheAddressesAgain(int again, int exposed, bool reExposed)
    {
        var first = Run([], T0.AddMinutes(10), null, Finding(1, T0, People(exposed))).Changed.Single();
        var apology = Finding(2, T0.AddDays(1), [.. People(exposed).Take(again), .. People(15, "other{0}.org", 500)], subject: "Sorry");

        var result = Run([first], T0.AddDays(1).AddMinutes(10), null, apology);

        Assert.Equal(reExposed, result.Findings.Single().Role == FindingRole.ReExposure);
        Assert.Equal(reExposed ? 0 : 1, result.Changed.Count(i => !ReferenceEquals(i, first)));
    }

    [Theory]
    [InlineData(30, 10, Severity.High)] // 10 of 40 (25%) personal: raised from medium
    [InlineData(31, 10, Severity.Medium)] // 10 of 41 (24.4%): not raised
    public void PersonalMailboxes_AQuarterOrMore_RaiseTheSeverity(int companies, int personal, Severity expected)
    {
        var recipients = People(companies).Concat(People(personal, "gmail.com", 1000)).ToList();

        var incident = Run([], T0.AddMinutes(10), null, Finding(1, T0, recipients)).Changed.Single();

        Assert.Equal(expected, incident.Severity);
    }

    [Theory]
    [InlineData(24, Severity.Low)]
    [InlineData(25, Severity.Medium)]
    [InlineData(99, Severity.Medium)]
    [InlineData(100, Severity.High)]
    public void Severity_ByDistinctExposedAddresses_AtEachThreshold(int exposed, Severity expected)
    {
        var incident = Run([], T0.AddMinutes(10), null, Finding(1, T0, People(exposed))).Changed.Single();

        Assert.Equal(expected, incident.Severity);
    }

    [Theory]
    [InlineData(90, true)] // exactly the window after the first incident: still a repeat sender
    [InlineData(91, false)]
    public void RepeatSender_AnotherIncidentWithinTheWindow(int daysLater, bool repeat)
    {
        var first = Run([], T0.AddMinutes(10), null, Finding(1, T0, People(12))).Changed.Single();
        // A different list and subject: not a re-exposure, not the same blast.
        var later = Finding(2, T0.AddDays(daysLater), People(12, "later{0}.net", 200), subject: "Another list");

        var second = Run([first], T0.AddDays(daysLater).AddMinutes(10), null, later).Changed.Single(i => i.IsNew);

        Assert.Equal(repeat, second.RepeatSender);
    }

    [Theory]
    [InlineData(1, true)] // the entry expires a second after the decision: still suppresses
    [InlineData(0, false)] // expires at the very second: no longer
    public void AllowlistEntry_StopsSuppressingAtItsExpiryToTheSecond(int expiresSecondsAfterNow, bool suppressed)
    {
        var now = T0.AddMinutes(10);
        var entry = new AllowlistEntry(1, AllowlistKind.Sender, "ann@contoso.com", "dpo", "Bulk platform", T0.AddDays(-1), now.AddSeconds(expiresSecondsAfterNow));

        var result = Run([], now, [entry], Finding(1, T0, People(12)));

        Assert.Equal(suppressed, result.Findings.Single().SuppressionReason is not null);
    }

    [Fact]
    public void SameMessageInTwoMailboxes_TheSendersOwnCopyIsTheBlast_WhicheverWasStoredFirst()
    {
        var recipients = People(12);
        var inDelegate = new ExposureInput(1, "pa@contoso.com", "<m1@contoso.com>", "ann@contoso.com", "List", T0, T0.AddMinutes(5), recipients);
        var inOwn = new ExposureInput(2, "ann@contoso.com", "<m1@contoso.com>", "ann@contoso.com", "List", T0, T0.AddMinutes(5), recipients);

        var result = Run([], T0.AddMinutes(10), null, inDelegate, inOwn);

        Assert.Equal(FindingRole.Blast, result.Findings.Single(f => f.FindingId == 2).Role);
        Assert.Equal(FindingRole.Copy, result.Findings.Single(f => f.FindingId == 1).Role);
    }
}
