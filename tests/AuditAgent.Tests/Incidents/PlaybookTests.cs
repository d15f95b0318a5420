using AuditAgent.Core.Detection;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;

namespace AuditAgent.Tests.Incidents;

/// <summary>Which plan steps an incident gets, when they are due, and custom playbooks.</summary>
public class PlaybookTests
{
    private static readonly DateTimeOffset Detected = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static IncidentRunResult Open(int companies, int personal, Playbook? playbook = null)
    {
        var recipients = Enumerable.Range(0, companies).Select(i => new ExposedRecipient($"p{i}@c{i % 4}.com", null, RecipientField.To))
            .Concat(Enumerable.Range(0, personal).Select(i => new ExposedRecipient($"q{i}@gmail.com", null, RecipientField.To)))
            .ToList();
        var finding = new ExposureInput(1, "ann@contoso.com", "<m1@contoso.com>", "ann@contoso.com", "List", Detected.AddHours(-3), Detected, recipients);
        var context = new IncidentContext(new IncidentRules(), Allowlist.Empty, new ConsumerDomains(["gmail.com"]), playbook ?? DefaultPlaybook.Instance, Detected.AddMinutes(1));
        return IncidentEngine.Run([], new Dictionary<string, KnownMessage>(), [finding], [], context);
    }

    [Fact]
    public void DefaultPlan_CompanyAddressesOnly_HasTheSixUnconditionalStepsInOrder()
    {
        var steps = Open(companies: 12, personal: 0).Steps.Select(s => s.Step.Key).ToList();

        Assert.Equal(["stop-spread", "apologise-from-higher-up", "explain-the-fix", "train-sender-and-team", "prevent-in-tenant", "assess-and-record-breach"], steps);
    }

    [Fact]
    public void DefaultPlan_PersonalMailboxesExposed_AddsTheOffer()
    {
        var steps = Open(companies: 10, personal: 2).Steps.Select(s => s.Step.Key).ToList();

        Assert.Contains("offer-protection", steps);
        Assert.DoesNotContain("stop-the-repeat", steps);
    }

    [Fact]
    public void DefaultPlan_DueTimesRunFromDetection()
    {
        var steps = Open(companies: 12, personal: 0).Steps.ToDictionary(s => s.Step.Key);

        Assert.Equal(Detected.AddHours(4), steps["stop-spread"].DueAt);
        Assert.Equal(Detected.AddHours(72), steps["assess-and-record-breach"].DueAt);
        Assert.Equal(Detected.AddDays(14), steps["train-sender-and-team"].DueAt);
        Assert.Equal(OwnerRole.PrivacyOfficer, steps["assess-and-record-breach"].Step.Owner);
        Assert.Contains("Set-OrganizationConfig -MailTipsLargeAudienceThreshold", steps["prevent-in-tenant"].Step.Instructions, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPlan_ReExposure_AddsStopTheRepeatDueFromTheReExposure()
    {
        var first = Open(companies: 20, personal: 0);
        var incident = first.Changed.Single();
        var reExposedAt = Detected.AddDays(2);
        var apology = new ExposureInput(2, "ann@contoso.com", "<m2@contoso.com>", "ann@contoso.com", "Sorry", Detected.AddDays(1), reExposedAt,
            [.. incident.Exposed.Values]);
        var context = new IncidentContext(new IncidentRules(), Allowlist.Empty, new ConsumerDomains([]), DefaultPlaybook.Instance, reExposedAt);

        var second = IncidentEngine.Run([incident], new Dictionary<string, KnownMessage>(), [apology], [], context);

        var added = Assert.Single(second.Steps);
        Assert.Equal("stop-the-repeat", added.Step.Key);
        Assert.Equal(reExposedAt.AddHours(24), added.DueAt);
        Assert.Contains(second.Timeline, e => e.Kind == "plan");
    }

    [Fact]
    public void CustomPlaybook_Extend_ReplacesAStepByKeyAndAddsConditionalOnes()
    {
        const string yaml = """
            mode: extend
            steps:
              - key: stop-spread
                title: Call the sender now
                why: Minutes matter.
                owner: security
                due: 30m
              - key: notify-legal
                title: Tell legal
                why: Legal keeps the register for high-severity breaches.
                owner: dpo
                due: 1d
                when: { minSeverity: high }
            """;
        var playbook = PlaybookParser.Parse(yaml, "playbook.yaml", DefaultPlaybook.Instance);

        var low = Open(companies: 12, personal: 0, playbook).Steps.ToDictionary(s => s.Step.Key);
        var high = Open(companies: 120, personal: 0, playbook).Steps.ToDictionary(s => s.Step.Key);

        Assert.Equal("Call the sender now", low["stop-spread"].Step.Title);
        Assert.Equal(Detected.AddMinutes(30), low["stop-spread"].DueAt);
        Assert.DoesNotContain("notify-legal", low.Keys);
        Assert.Equal(Detected.AddDays(1), high["notify-legal"].DueAt);
        Assert.Equal(DefaultPlaybook.Instance.Steps.Count + 1, playbook.Steps.Count);
    }

    [Fact]
    public void CustomPlaybook_Replace_UsesOnlyItsSteps_AndJsonWorksToo()
    {
        const string json = """
            {
              "mode": "replace",
              "steps": [
                { "key": "one", "title": "Only step", "why": "Because.", "owner": "communications", "due": "2d" }
              ]
            }
            """;

        var steps = Open(companies: 12, personal: 3, PlaybookParser.Parse(json, "playbook.json", DefaultPlaybook.Instance)).Steps;

        Assert.Equal("one", Assert.Single(steps).Step.Key);
    }

    [Fact]
    public void ExamplePlaybookInDocs_Parses()
    {
        var path = AuditAgent.Tests.Support.RepoFiles.Path("docs/playbook.example.yaml");

        var playbook = PlaybookParser.Parse(File.ReadAllText(path), "playbook.example.yaml", DefaultPlaybook.Instance);

        Assert.Equal("Call the sender within the hour", playbook.Steps.Single(s => s.Key == "stop-spread").Title);
        Assert.Equal("notify-legal", playbook.Steps[^1].Key);
    }

    [Theory]
    [InlineData("steps:\n  - key: a\n    title: T\n    why: W\n    owner: boss\n    due: 1d\n", 5, "owner \"boss\" is not one of sender, manager, security, dpo, communications")]
    [InlineData("steps:\n  - key: a\n    title: T\n    why: W\n    owner: dpo\n    due: soon\n", 6, "due \"soon\" is not a duration")]
    [InlineData("steps:\n  - key: a\n    title: T\n    owner: dpo\n    due: 1d\n", 2, "the step has no \"why\"")]
    [InlineData("steps:\n  - key: a\n    title: T\n    why: W\n    owner: dpo\n    due: 1d\n    colour: red\n", 7, "unknown field \"colour\"")]
    [InlineData("mode: merge\nsteps: []\n", 1, "mode must be \"extend\" or \"replace\"")]
    [InlineData("steps:\n  - key: a\n    title: [unclosed\n", 4, "")]
    [InlineData("steps:\n  - key: a\n    title: T\n    why: W\n    owner: dpo\n    due: 1d\n    when: { minSeverity: huge }\n", 7, "minSeverity \"huge\" is not one of")]
    public void MalformedPlaybook_IsRefusedWithTheLineAndTheReason(string text, int line, string reason)
    {
        var ex = Assert.Throws<PlaybookException>(() => PlaybookParser.Parse(text, "playbook.yaml", DefaultPlaybook.Instance));

        Assert.Equal(line, ex.Line);
        Assert.StartsWith($"playbook.yaml, line {line}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }
}
