using AuditAgent.Core.Detection;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;

namespace AuditAgent.Tests.Incidents;

/// <summary>The engine with what detection now sees: sensitive lists, mail sent as a shared mailbox, replies to all.</summary>
public sealed class IncidentEngineContextTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static List<ExposedRecipient> People(int count, int from = 0) =>
        [.. Enumerable.Range(from, count).Select(i => new ExposedRecipient($"p{i}@c{i % 4}.com", null, RecipientField.To))];

    private static ExposureInput Finding(long id, DateTimeOffset sent, IReadOnlyList<ExposedRecipient> recipients, string sender = "ann@contoso.com",
        string mailbox = "ann@contoso.com", string? sentAs = null, string? conversation = null, string? internetMessageId = null, IReadOnlyList<SensitiveMatch>? sensitive = null, string subject = "List") =>
        new(id, mailbox, internetMessageId ?? $"<m{id}@contoso.com>", sender, subject, sent, sent.AddMinutes(5), recipients, sentAs, conversation ?? $"conv-{id}", sensitive);

    private static IncidentRunResult Run(IReadOnlyList<IncidentState> incidents, DateTimeOffset now, IReadOnlyList<ReplyAllInput>? replies = null, params ExposureInput[] findings) =>
        IncidentEngine.Run(incidents, new Dictionary<string, KnownMessage>(), findings, [],
            new IncidentContext(new IncidentRules(), new Allowlist([], now), new ConsumerDomains(["gmail.com"]), DefaultPlaybook.Instance, now), replies);

    [Fact]
    public void SensitiveList_IsAtLeastHigh_WithTheReasonInWords()
    {
        var reason = "the subject suggests health data (GDPR Art. 9): 'HIV'";

        var plain = Run([], T0.AddHours(1), null, Finding(1, T0, People(14))).Changed.Single();
        var clinic = Run([], T0.AddHours(1), null, Finding(1, T0, People(14), sensitive: [new SensitiveMatch(SensitiveCategory.Health, reason)])).Changed.Single();

        Assert.Equal(Severity.Low, plain.Severity);
        Assert.Equal(Severity.High, clinic.Severity);
        Assert.Contains($"at least high: {reason}", clinic.Reasons);
        Assert.Equal([SensitiveCategory.Health], clinic.Sensitive.Keys);
    }

    [Fact]
    public void SensitiveList_AlreadyCritical_StaysCritical()
    {
        var many = People(150).Concat(Enumerable.Range(0, 60).Select(i => new ExposedRecipient($"x{i}@gmail.com", null, RecipientField.To))).ToList();

        var incident = Run([], T0.AddHours(1), null, Finding(1, T0, many, sensitive: [new SensitiveMatch(SensitiveCategory.Children, "x")])).Changed.Single();

        Assert.Equal(Severity.Critical, incident.Severity);
    }

    [Fact]
    public void SharedMailboxCopyFirst_TheDelegatesCopyNamesThePerson()
    {
        // The shared mailbox's own copy (send-as: from and sender are the shared address) is processed first;
        // the copy in the delegate's Sent Items says who sent it.
        var people = People(20);
        var first = Run([], T0.AddHours(1), null,
            Finding(1, T0, people, sender: "events@contoso.com", mailbox: "events@contoso.com", internetMessageId: "<same@contoso.com>")).Changed.Single();
        var known = new Dictionary<string, KnownMessage> { ["<same@contoso.com>"] = new(first.Key, null) };
        var delegateCopy = Finding(2, T0, people, sender: "bob@contoso.com", mailbox: "bob@contoso.com", sentAs: "events@contoso.com", internetMessageId: "<same@contoso.com>");

        var result = IncidentEngine.Run([first], known, [delegateCopy], [],
            new IncidentContext(new IncidentRules(), new Allowlist([], T0), new ConsumerDomains([]), DefaultPlaybook.Instance, T0.AddHours(2)));

        Assert.Equal(FindingRole.Copy, result.Findings.Single().Role);
        Assert.Equal(("bob@contoso.com", "events@contoso.com"), (first.SenderAddress, first.SentAs));
        Assert.Contains(result.Timeline, e => e.Text == "That copy shows who sent it: bob@contoso.com, as events@contoso.com.");
        Assert.Contains("sent by bob@contoso.com as events@contoso.com", first.Reasons);
    }

    [Fact]
    public void ColleaguesReplyToAll_InTheConversation_JoinsTheIncident_AndRaisesItOnce()
    {
        var people = People(30);
        var first = Run([], T0.AddHours(1), null, Finding(1, T0, people, conversation: "thread-1")).Changed.Single();
        var before = first.Severity;

        var result = Run([first], T0.AddHours(3), null,
            Finding(2, T0.AddHours(2), [.. people, .. People(3, 500)], sender: "carl@contoso.com", mailbox: "carl@contoso.com", conversation: "thread-1", subject: "RE: List"));

        Assert.Equal(FindingRole.ReplyAll, result.Findings.Single().Role);
        Assert.Single(result.Changed);
        Assert.Equal(1, first.ReplyAllCount);
        Assert.Equal(33, first.Exposed.Count);
        Assert.Equal(before.Raise(), first.Severity);
        Assert.Contains(result.Steps, s => s.Step.Key == "ask-repliers-to-delete");
        Assert.Contains(result.Timeline, e => e.Kind == "reply-all" && e.Text.StartsWith("A colleague, carl@contoso.com, replied to all from their own mailbox", StringComparison.Ordinal));
    }

    [Fact]
    public void SendersOwnFollowUp_InTheConversation_IsNotAReplyToAll()
    {
        var people = People(30);
        var first = Run([], T0.AddHours(1), null, Finding(1, T0, people, conversation: "thread-1")).Changed.Single();

        var result = Run([first], T0.AddDays(1), null, Finding(2, T0.AddDays(1), people, conversation: "thread-1", subject: "Sorry"));

        Assert.Equal(FindingRole.ReExposure, result.Findings.Single().Role);
        Assert.Equal(0, first.ReplyAllCount);
    }

    [Fact]
    public void RepliesToAllFromOutside_EachAnEntry_SeverityRaisedOnce_StepAddedOnce()
    {
        var first = Run([], T0.AddHours(1), null, Finding(1, T0, People(30))).Changed.Single();
        var before = first.Severity;

        var result = Run([first], T0.AddDays(1), [new ReplyAllInput(1, first.Key, "c1.com", T0.AddHours(2), 29), new ReplyAllInput(2, first.Key, "gmail.com", T0.AddHours(3), 28)]);

        Assert.Equal(2, first.ReplyAllCount);
        Assert.Equal(before.Raise(), first.Severity);
        Assert.Equal(2, result.Timeline.Count(e => e.Kind == "reply-all"));
        Assert.Equal("A recipient at gmail.com replied to all 2026-11-02 12:00 UTC: 28 of the 30 exposed addresses saw the list again (2 replies to all so far).", result.Timeline.Last(e => e.Kind == "reply-all").Text);
        Assert.Single(result.Steps, s => s.Step.Key == "ask-repliers-to-delete");
        Assert.Contains("raised one level: 2 replies to all exposed the list again", first.Reasons);
        Assert.Equal([first.Key, first.Key], result.ReplyAlls.Select(r => r.IncidentKey));
    }

    [Fact]
    public void ReplyToAll_OnAClosedIncident_IsRecordedButChangesNothing()
    {
        var first = Run([], T0.AddHours(1), null, Finding(1, T0, People(30))).Changed.Single();
        first.Status = IncidentStatus.Resolved;

        var result = Run([first], T0.AddDays(1), [new ReplyAllInput(7, first.Key, "c1.com", T0.AddHours(2), 29)]);

        Assert.Equal(new ReplyAllOutcome(7, null), result.ReplyAlls.Single());
        Assert.Empty(result.Changed);
        Assert.Equal(0, first.ReplyAllCount);
    }
}
