using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AuditAgent.Tests.Scanning;

/// <summary>Shared mailboxes, rooms and users without a mailbox: what is read, what is not, and what status says.</summary>
public sealed class MailboxKindsTests
{
    private static (SimTenant Tenant, SimUser Room, SimUser Shared, SimUser Ann) Tenant()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var shared = t.SignInBlocked("events");
        var room = t.SignInBlocked("boardroom", purpose: "room");
        // A room's Sent Items with what would be a finding: a room's mail is never read when its purpose is known.
        t.Send(room, "Accepted: partner day", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(12, TenantBuilder.Companies));
        t.Send(shared, "Events newsletter", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(12, TenantBuilder.Companies), from: shared);
        return (t.Tenant, room, shared, ann);
    }

    [Fact]
    public async Task WithMailboxSettingsRead_RoomsAreNotScanned_AndPurposesAreReadAgainDaily()
    {
        var (tenant, room, shared, ann) = Tenant();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var roles = new SimulatorOptions().Roles.Append("MailboxSettings.Read").ToList();
        await using var agent = await AgentHarness.StartAsync(tenant, new SimulatorOptions { Roles = roles }, time: clock);

        await agent.ScanAsync();

        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations("delta", room.Id));
        Assert.Equal(1, agent.Simulator.Counters.MailboxOperations("delta", shared.Id));
        var findings = await agent.FindingsAsync();
        Assert.Equal([shared.Id], findings.Select(f => f.MailboxId));
        var status = (await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default)).Mailboxes.ToDictionary(m => m.Address);
        Assert.Equal(("room (not scanned)", "shared", "user"), (status[room.Mail!].Kind, status[shared.Mail!].Kind, status[ann.Mail!].Kind));
        Assert.Equal(3, agent.Simulator.Counters.Operations("mailboxSettings"));

        agent.Simulator.Counters.Reset();
        await agent.ScanAsync();
        Assert.Equal(0, agent.Simulator.Counters.Operations("mailboxSettings")); // known for a day

        clock.Advance(TimeSpan.FromHours(25));
        await agent.ScanAsync();
        Assert.Equal(3, agent.Simulator.Counters.Operations("mailboxSettings"));
        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations("delta", room.Id));
    }

    [Fact]
    public async Task WithoutMailboxSettingsRead_EveryMailboxIsScanned_AfterOneRefusedBatch()
    {
        var (tenant, room, _, _) = Tenant();
        await using var agent = await AgentHarness.StartAsync(tenant);

        await agent.ScanAsync();
        await agent.ScanAsync();

        Assert.Equal(2, agent.Simulator.Counters.MailboxOperations("delta", room.Id));
        Assert.Equal(3, agent.Simulator.Counters.Operations("denied")); // one $batch asked for the three purposes, refused, and not again
        var status = (await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default)).Mailboxes;
        Assert.Equal("sign-in blocked", status.Single(m => m.Address == room.Mail).Kind); // its purpose is unknown
    }
}
