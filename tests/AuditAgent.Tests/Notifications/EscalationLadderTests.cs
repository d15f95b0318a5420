using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Notifications;

/// <summary>A high incident whose step stays open goes up the directory, one level per delay, saying what was asked of whom and since when.</summary>
public sealed class EscalationLadderTests
{
    [Fact]
    public void Core_OnlyHighAndCriticalGoUp_OneLevelPerDelay_UpToTheDepth()
    {
        var due = DateTimeOffset.Parse("2026-11-30T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        StepFacts[] steps = [new("stop-spread", "Stop the spread", OwnerRole.Sender, due, Open: true), new("prevent-in-tenant", "Prevent it", OwnerRole.Security, due, Open: true)];
        var ladder = new EscalationLadder(2, TimeSpan.FromHours(24));
        List<string> Up(Severity severity, double hoursPastDue) =>
            [.. Escalations.Due(new EscalationFacts(1, severity, IncidentStatus.Acknowledged, false, steps), Severity.Critical, due.AddHours(hoursPastDue), null, ladder)
                .Where(d => d.Level > 0).Select(d => $"{d.Reason}@{d.Level}")];

        Assert.Empty(Up(Severity.High, 23));
        Assert.Equal(["up1:stop-spread@1"], Up(Severity.High, 24));
        Assert.Equal(["up1:stop-spread@1", "up2:stop-spread@2"], Up(Severity.Critical, 60));
        Assert.Equal(["up1:stop-spread@1", "up2:stop-spread@2"], Up(Severity.High, 500)); // the depth is the limit
        Assert.Empty(Up(Severity.Medium, 500)); // medium incidents stay with the manager
    }

    [Fact]
    public async Task AHighIncidentLeftOpen_ReachesTheManagersManager_WithWhatWasAskedOfWhom()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var output = new TempFolder();
        var t = new TenantBuilder();
        var bigboss = t.User("bigboss");
        var boss = t.User("boss", bigboss.Id);
        t.Send(t.User("ann", boss.Id), "Price list", Now.AddDays(-1), People(120, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, time: clock, settings: NotificationTests.Mail(new()
        {
            ["Notifications:Transport"] = "None",
            ["Notifications:OutputFolder"] = output.Path,
            ["Notifications:EscalateUpAfterHours"] = "24",
        }));
        await agent.ScanAndProcessAsync();
        var escalations = agent.Services.GetRequiredService<EscalationService>();
        var incident = await agent.IncidentAsync(Assert.Single(await agent.IncidentsAsync()).Id);
        var stopSpread = incident.Steps.Single(s => s.StepKey == "stop-spread");

        await escalations.RunAsync(CancellationToken.None);
        clock.SetUtcNow(stopSpread.DueAt.AddHours(23));
        await escalations.RunAsync(CancellationToken.None);
        var beforeTheDelay = Recipients(output);
        clock.SetUtcNow(stopSpread.DueAt.AddHours(25));
        await escalations.RunAsync(CancellationToken.None);
        clock.SetUtcNow(stopSpread.DueAt.AddHours(100));
        await escalations.RunAsync(CancellationToken.None); // depth 1: nobody above bigboss is told

        Assert.Equal("high", incident.Incident.Severity);
        Assert.DoesNotContain("bigboss@contoso.com", beforeTheDelay);
        var up = Directory.GetFiles(output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).Where(m => m.To.Mailboxes.Single().Address == "bigboss@contoso.com").ToList();
        var mail = Assert.Single(up, m => m.TextBody?.Contains("was asked to see to \"Stop the spread\"", StringComparison.Ordinal) == true);
        Assert.StartsWith("A privacy incident in your organisation is waiting for action", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Boss (boss@contoso.com) was asked to see to \"Stop the spread\" by ", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("Hello Bigboss,", mail.TextBody, StringComparison.Ordinal);
        var timeline = (await agent.IncidentAsync(incident.Incident.Id)).Timeline;
        Assert.Contains(timeline, e => e.Text.StartsWith("Escalated to Bigboss <bigboss@contoso.com>, 1 level above the sender's manager", StringComparison.Ordinal));
    }

    private static List<string> Recipients(TempFolder output) =>
        [.. Directory.GetFiles(output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f).To.Mailboxes.Single().Address)];
}
