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

        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
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
    }
}
