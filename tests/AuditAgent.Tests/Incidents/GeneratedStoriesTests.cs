using Microsoft.Extensions.DependencyInjection;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Incidents;

/// <summary>The demo tenant's stories come out as a privacy officer would read them.</summary>
public class GeneratedStoriesTests
{
    [Fact]
    public async Task DemoTenant_Stories_ShowEveryIncidentRule()
    {
        var tenant = Tenants.Tenant(mailboxes: 30, messages: 20, seed: 11);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant);

        var run = await agent.ScanAndProcessAsync();

        var incidents = (await agent.IncidentsAsync()).GroupBy(i => i.Subject!).ToDictionary(g => g.Key, g => g.First());
        var spring = incidents["Spring price list 2027"];
        Assert.True(spring.ReExposed);
        Assert.Equal((3, 45), (spring.BlastMessages, spring.ExposedCount));
        Assert.DoesNotContain("Apologies for our previous email", incidents.Keys);

        var invitation = await agent.IncidentAsync(incidents["Customer day invitation"].Id);
        Assert.Equal(1, invitation.Incident.Copies);
        Assert.Contains(invitation.Timeline, e => e.Kind == "remediation");

        Assert.True(incidents["Survey: tell us what you think"].RepeatSender);
        var suppressed = (await agent.FindingsAsync()).Single(f => f.Subject == "Fabrikam rollout plan");
        Assert.Null(suppressed.IncidentId);
        Assert.NotNull(suppressed.SuppressionReason);
        Assert.Equal((1, 1), (run.ReExposures, run.BccFollowUps));
        Assert.Equal(3, run.RepliesToAll);
    }

    [Fact]
    public async Task DemoTenant_SharedMailboxSensitiveListAndCascade_AreEachTold()
    {
        var tenant = Tenants.Tenant(mailboxes: 30, messages: 20, seed: 11);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant);
        await agent.ScanAndProcessAsync();
        var incidents = (await agent.IncidentsAsync()).GroupBy(i => i.Subject!).ToDictionary(g => g.Key, g => g.First());

        // The shared mailbox's newsletter: the person who sent it on behalf of it, and the address it went out as.
        var newsletter = await agent.IncidentAsync(incidents["Contoso news: November"].Id);
        Assert.Equal(tenant.Tenant.Users[4].Mail, newsletter.Incident.SenderAddress);
        Assert.Equal("newsletter@contoso.com", newsletter.Incident.SentAs);
        Assert.Contains($"sent by {tenant.Tenant.Users[4].Mail} as newsletter@contoso.com", newsletter.Reasons);

        // The clinic's list: 14 people is low by size; being on an HIV support group's list makes it high.
        var clinic = await agent.IncidentAsync(incidents["Invitation: HIV peer support group, 14 March"].Id);
        Assert.Equal("high", clinic.Incident.Severity);
        Assert.Equal(["health"], clinic.Incident.SensitiveCategories);
        Assert.Contains("at least high: the subject suggests health data (GDPR Art. 9): 'HIV'", clinic.Reasons);

        // The class list: a colleague replied to all from their own mailbox (attached, not a new incident), two
        // parents replied to all from outside, one parent replied only to the teacher (not counted).
        var trip = await agent.IncidentAsync(incidents["Class 4B trip on Friday"].Id);
        Assert.DoesNotContain("RE: Class 4B trip on Friday", incidents.Keys);
        Assert.Equal(3, trip.Incident.ReplyAllCount);
        Assert.Equal(3, trip.Timeline.Count(e => e.Kind == "reply-all"));
        Assert.Contains(trip.Messages, m => m.Role == "reply-all" && m.SenderAddress == tenant.Tenant.Users[11].Mail);
        Assert.Contains("raised one level: 3 replies to all exposed the list again", trip.Reasons);
        Assert.Contains(trip.Steps, s => s.StepKey == "ask-repliers-to-delete");
        Assert.Equal("critical", trip.Incident.Severity); // children's data (at least high), then one up for the cascade

        // The category and the replies reach the event stream and the breach register.
        var events = await agent.Services.GetRequiredService<AuditAgent.Events.EventFeed>().AfterAsync(0, 1000, CancellationToken.None);
        var opened = events.Single(e => e.Type == "incident.opened" && e.IncidentId == clinic.Incident.Id);
        Assert.Equal(["health"], opened.Data.GetProperty("incident").GetProperty("sensitiveCategories").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(3, events.Count(e => e.Type == "incident.reply_all" && e.IncidentId == trip.Incident.Id));
        var register = (await agent.Services.GetRequiredService<AuditAgent.Storage.RegisterQueries>().ListAsync(CancellationToken.None)).ToDictionary(e => e.Id);
        Assert.Equal(("health", "children", 3), (register[clinic.Incident.Id].SensitiveCategories, register[trip.Incident.Id].SensitiveCategories, register[trip.Incident.Id].ReplyAllCount));
        Assert.Equal("newsletter@contoso.com", register[newsletter.Incident.Id].SentAs);

        // Watching again finds nothing new: each reply is counted once.
        var again = await agent.ScanAndProcessAsync();
        Assert.Equal(0, again.RepliesToAll);
        Assert.Equal(3, (await agent.IncidentAsync(trip.Incident.Id)).Incident.ReplyAllCount);
    }
}
