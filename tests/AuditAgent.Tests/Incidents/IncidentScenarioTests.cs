using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using Microsoft.Extensions.DependencyInjection;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Incidents;

/// <summary>Each incident rule through the real pipeline: simulator, Graph SDK, SQLite, incident engine.</summary>
public class IncidentScenarioTests
{
    private static async Task<AgentHarness> AgentAsync(TenantBuilder tenant, Backend backend, Dictionary<string, string?>? settings = null) =>
        await AgentHarness.StartAsync(tenant.Tenant, settings: settings, backend: backend);

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Severity_FollowsTheNumberOfExposedAddresses(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Small list", Now.AddDays(-3), People(12, Companies));
        t.Send(ann, "Medium list", Now.AddDays(-2), People(30, Companies));
        t.Send(ann, "Large list", Now.AddDays(-1), People(120, Companies));
        await using var agent = await AgentAsync(t, backend);

        var run = await agent.ScanAndProcessAsync();

        Assert.Equal(3, run.Opened);
        var bySubject = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
        Assert.Equal("low", bySubject["Small list"].Severity);
        Assert.Equal("medium", bySubject["Medium list"].Severity);
        Assert.Equal("high", bySubject["Large list"].Severity);
        var detail = await agent.IncidentAsync(bySubject["Medium list"].Id);
        Assert.Equal("30 external addresses visible in To across 5 domains", detail.Reasons[0]);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Severity_AQuarterOrMorePersonalMailboxes_RaisesOneLevel(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        // 20 addresses: 5 at consumer providers (25%) raises low to medium; 4 (20%) does not.
        t.Send(ann, "Quarter personal", Now.AddDays(-3), [.. People(15, Companies), .. People(5, "gmail.com", "hotmail.co.uk", "yahoo.de")]);
        t.Send(ann, "Fifth personal", Now.AddDays(-2), [.. People(16, Companies), .. People(4, "gmail.com")]);
        t.Send(ann, "Large and personal", Now.AddDays(-1), [.. People(80, Companies), .. People(40, "outlook.com", "icloud.com")]);
        await using var agent = await AgentAsync(t, backend);

        await agent.ScanAndProcessAsync();

        var bySubject = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
        Assert.Equal(("medium", 5), (bySubject["Quarter personal"].Severity, bySubject["Quarter personal"].PersonalCount));
        Assert.Equal(("low", 4), (bySubject["Fifth personal"].Severity, bySubject["Fifth personal"].PersonalCount));
        Assert.Equal("critical", bySubject["Large and personal"].Severity);
        var reasons = (await agent.IncidentAsync(bySubject["Quarter personal"].Id)).Reasons;
        Assert.Contains(reasons, r => r.StartsWith("raised one level: 5 of 20 (25%) are private people's mailboxes", StringComparison.Ordinal));
        Assert.Contains("5 are personal mailboxes", reasons[0], StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Suppression_OneOrganisation_KeepsTheFindingAndOpensNoIncident(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Fabrikam project team", Now.AddDays(-2), [.. People(8, "fabrikam.com"), .. People(7, "eu.fabrikam.com")]);
        t.Send(ann, "Gmail friends", Now.AddDays(-1), People(12, "gmail.com"));
        await using var agent = await AgentAsync(t, backend);

        var run = await agent.ScanAndProcessAsync();

        Assert.Equal(1, run.Suppressed);
        var findings = (await agent.FindingsAsync()).ToDictionary(f => f.Subject!);
        Assert.Null(findings["Fabrikam project team"].IncidentId);
        Assert.Contains("one organisation (fabrikam.com)", findings["Fabrikam project team"].SuppressionReason, StringComparison.Ordinal);
        // A consumer provider is not an employer: those people do not know each other.
        Assert.NotNull(findings["Gmail friends"].IncidentId);
        Assert.Single(await agent.IncidentsAsync());
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Suppression_OneOrganisation_CanBeSwitchedOff(Backend backend)
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Fabrikam project team", Now.AddDays(-2), People(15, "fabrikam.com"));
        await using var agent = await AgentAsync(t, backend, new() { ["Incidents:SuppressSingleOrganisation"] = "false" });

        var run = await agent.ScanAndProcessAsync();

        Assert.Equal(1, run.Opened);
        Assert.Equal(0, run.Suppressed);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Suppression_AllowlistedPartnerDomainsAndSender_AndAnExpiredEntryStopsSuppressing(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var news = t.User("news");
        t.Send(ann, "Partner programme", Now.AddDays(-3), People(14, "adatum.com", "sub.litwareinc.com"));
        t.Send(news, "Monthly newsletter", Now.AddDays(-2), People(30, Companies));
        t.Send(ann, "Old partner", Now.AddDays(-1), People(14, "proseware.com", "tailspintoys.com"));
        await using var agent = await AgentAsync(t, backend);
        var now = DateTimeOffset.UtcNow;
        await agent.Services.GetRequiredService<Database>().MigrateAsync(CancellationToken.None);
        await agent.Store.AddAllowlistAsync(new AllowlistRequest(AllowlistKind.Domain, "adatum.com", "Partner programme, contract 2026-14", null), "dpo@contoso.com", now, CancellationToken.None);
        await agent.Store.AddAllowlistAsync(new AllowlistRequest(AllowlistKind.Domain, "litwareinc.com", "Partner programme", now.AddDays(30)), "dpo@contoso.com", now, CancellationToken.None);
        await agent.Store.AddAllowlistAsync(new AllowlistRequest(AllowlistKind.Sender, "news@contoso.com", "Bulk-mail platform account", null), "dpo@contoso.com", now, CancellationToken.None);
        await agent.Store.AddAllowlistAsync(new AllowlistRequest(AllowlistKind.Domain, "proseware.com", "Old partner", now.AddDays(-1)), "dpo@contoso.com", now.AddDays(-60), CancellationToken.None);
        await agent.Store.AddAllowlistAsync(new AllowlistRequest(AllowlistKind.Domain, "tailspintoys.com", "Old partner", now.AddDays(-1)), "dpo@contoso.com", now.AddDays(-60), CancellationToken.None);

        var run = await agent.ScanAndProcessAsync();

        var findings = (await agent.FindingsAsync()).ToDictionary(f => f.Subject!);
        Assert.Contains("allowlisted partner domains", findings["Partner programme"].SuppressionReason, StringComparison.Ordinal);
        Assert.Contains("added by dpo@contoso.com", findings["Partner programme"].SuppressionReason, StringComparison.Ordinal);
        Assert.Contains("allowlisted sender", findings["Monthly newsletter"].SuppressionReason, StringComparison.Ordinal);
        Assert.Null(findings["Old partner"].SuppressionReason);
        Assert.Equal(2, run.Suppressed);
        Assert.Equal("Old partner", Assert.Single(await agent.IncidentsAsync()).Subject);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Grouping_ABlastInThreeBatches_IsOneIncident(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var list = People(45, Companies);
        t.Send(ann, "Spring offer", Now.AddDays(-2), list[..15]);
        t.Send(ann, "spring   OFFER", Now.AddDays(-2).AddHours(2), list[15..30]);
        t.Send(ann, "Spring offer", Now.AddDays(-2).AddHours(5), list[30..]);
        t.Send(ann, "Spring offer", Now.AddDays(-1).AddHours(8), People(12, "other1.com", "other2.com"));
        await using var agent = await AgentAsync(t, backend);

        await agent.ScanAndProcessAsync();

        var incidents = await agent.IncidentsAsync();
        Assert.Equal(2, incidents.Count);
        var blast = incidents.Single(i => i.ExposedCount == 45);
        Assert.Equal(3, blast.BlastMessages);
        Assert.Equal("medium", blast.Severity);
        var detail = await agent.IncidentAsync(blast.Id);
        Assert.Equal(3, detail.Messages.Count);
        Assert.All(detail.Messages, m => Assert.Equal("blast", m.Role));
        Assert.Contains(detail.Reasons, r => r.StartsWith("sent as 3 messages with the same subject within 5 hours", StringComparison.Ordinal));
        Assert.Equal(2, detail.Timeline.Count(e => e.Kind == "grouped"));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Grouping_TheSameMessageInTwoMailboxes_IsOneExposure(Backend backend)
    {
        var t = new TenantBuilder();
        var shared = t.User("sales");
        var bob = t.User("bob");
        var list = People(30, Companies);
        // Bob sends as the shared mailbox: a copy lands in both Sent Items with one internetMessageId.
        t.Send(bob, "Price changes", Now.AddDays(-1), list, internetMessageId: "<shared-1@contoso.com>", from: shared);
        t.Send(shared, "Price changes", Now.AddDays(-1), list, internetMessageId: "<shared-1@contoso.com>");
        await using var agent = await AgentAsync(t, backend);

        var run = await agent.ScanAndProcessAsync();

        Assert.Equal(2, (await agent.FindingsAsync()).Count);
        Assert.Equal(1, run.Opened);
        var incident = Assert.Single(await agent.IncidentsAsync());
        Assert.Equal(30, incident.ExposedCount);
        Assert.Equal(1, incident.Copies);
        var detail = await agent.IncidentAsync(incident.Id);
        Assert.Equal(["blast", "copy"], detail.Messages.Select(m => m.Role!).Order());
        Assert.Contains(detail.Reasons, r => r.Contains("in 2 mailboxes (counted once)", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task ReExposure_TheApologySentToTheSameListInTo_RaisesSeverityAndAddsAStep(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var list = People(30, Companies);
        t.Send(ann, "Your order confirmation", Now.AddDays(-5), list);
        await using var agent = await AgentAsync(t, backend);
        await agent.ScanAndProcessAsync();
        var incident = Assert.Single(await agent.IncidentsAsync());
        Assert.Equal("medium", incident.Severity);
        await agent.Store.ChangeStatusAsync(incident.Id, IncidentAction.Resolve, new AuditAgent.Core.Incidents.Actor("sec@contoso.com"), "handled", null, DateTimeOffset.UtcNow, CancellationToken.None);

        // The classic sequel: the sender apologises to the whole list, again in To.
        t.Send(ann, "Apologies for our previous email", Now.AddDays(-3), [.. list.Take(20), .. People(3, "newcomer.com")]);
        var run = await agent.ScanAndProcessAsync();

        Assert.Equal(0, run.Opened);
        Assert.Equal(1, run.ReExposures);
        var after = Assert.Single(await agent.IncidentsAsync());
        Assert.True(after.ReExposed);
        Assert.Equal("high", after.Severity);
        Assert.Equal("acknowledged", after.Status);
        Assert.Equal(33, after.ExposedCount);
        var detail = await agent.IncidentAsync(after.Id);
        Assert.Contains(detail.Steps, s => s.StepKey == "stop-the-repeat" && s.Owner == "security");
        Assert.Contains(detail.Timeline, e => e.Kind == "re-exposure" && e.Text.Contains("20 of the 30 addresses visible again, and 3 more", StringComparison.Ordinal));
        Assert.Contains(detail.Timeline, e => e.Kind == "reopened");
        Assert.Contains(detail.Timeline, e => e.Kind == "severity" && e.Text == "Severity raised from medium to high.");
        Assert.Equal("re-exposure", detail.Messages[^1].Role);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task ReExposure_AFollowUpSentProperlyInBcc_IsRecordedAsRemediationNotAnExposure(Backend backend)
    {
        var t = new TenantBuilder();
        var bob = t.User("bob");
        var list = People(30, Companies);
        t.Send(bob, "Event update", Now.AddDays(-4), list);
        t.Send(bob, "Apologies for our previous email", Now.AddDays(-2), [bob.Mail!], bcc: list);
        await using var agent = await AgentAsync(t, backend);

        var run = await agent.ScanAndProcessAsync();

        Assert.Single(await agent.FindingsAsync());
        Assert.Equal(1, run.BccFollowUps);
        var incident = Assert.Single(await agent.IncidentsAsync());
        Assert.False(incident.ReExposed);
        Assert.Equal("medium", incident.Severity);
        var remediation = Assert.Single((await agent.IncidentAsync(incident.Id)).Timeline, e => e.Kind == "remediation");
        Assert.Contains("in Bcc to 30 of the 30 exposed addresses", remediation.Text, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task RepeatSender_AnotherIncidentWithin90Days_IsMarked(Backend backend)
    {
        var t = new TenantBuilder();
        var dan = t.User("dan");
        var eve = t.User("eve");
        t.Send(dan, "Q2 customer survey", Now.AddDays(-50), People(12, Companies));
        t.Send(dan, "Invitation to our summer party", Now.AddDays(-5), People(14, "other1.com", "other2.com"));
        t.Send(eve, "Webinar", Now.AddDays(-5), People(14, "other3.com", "other4.com"));
        await using var agent = await AgentAsync(t, backend, new() { ["Scan:LookbackDays"] = "60" });

        await agent.ScanAndProcessAsync();

        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
        Assert.False(incidents["Q2 customer survey"].RepeatSender);
        Assert.True(incidents["Invitation to our summer party"].RepeatSender);
        Assert.False(incidents["Webinar"].RepeatSender);
        var reasons = (await agent.IncidentAsync(incidents["Invitation to our summer party"].Id)).Reasons;
        Assert.Contains(reasons, r => r.StartsWith("repeat sender: dan@contoso.com caused another incident", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Processing_RunTwice_ChangesNothingTheSecondTime(Backend backend)
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "List", Now.AddDays(-1), People(20, Companies));
        await using var agent = await AgentAsync(t, backend);
        await agent.ScanAndProcessAsync();
        var before = await agent.IncidentAsync((await agent.IncidentsAsync())[0].Id);

        var again = await agent.ScanAndProcessAsync();

        Assert.Equal(new IncidentRunSummary(0, 0, 0, 0, 0), again);
        var after = await agent.IncidentAsync(before.Incident.Id);
        Assert.Equal(before.Timeline.Count, after.Timeline.Count);
        Assert.Equal(before.Steps.Count, after.Steps.Count);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Processing_TwoAgentsAtOnce_OpenEachIncidentOnce(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        for (var i = 0; i < 6; i++)
        {
            t.Send(ann, $"List {i}", Now.AddDays(-1 - i), People(12, Companies));
        }

        await using var agent = await AgentAsync(t, backend);
        await agent.ScanAsync();
        await using var second = agent.AnotherAgent();
        var other = second.GetRequiredService<IncidentService>();

        var runs = await Task.WhenAll(
            agent.Services.GetRequiredService<IncidentService>().ProcessAsync(CancellationToken.None),
            other.ProcessAsync(CancellationToken.None));

        Assert.Equal(6, runs.Sum(r => r.Opened));
        Assert.Equal(6, (await agent.IncidentsAsync()).Count);
    }
}
