using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Scanning;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AuditAgent.Tests.Cluster;

/// <summary>Agents sharing one database split a scan cycle through mailbox leases.</summary>
public sealed class LeaseTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task TwoAgentsScanningAtOnce_ShareOneCycle_EveryMailboxReadOnce(Backend backend)
    {
        var tenant = Tenants.Tenant(mailboxes: 60);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(5) },
            new Dictionary<string, string?> { ["Scan:MaxParallelMailboxes"] = "4", ["Graph:PageSize"] = "10" }, backend: backend);
        await agent.Services.GetRequiredService<Database>().MigrateAsync(default);
        await using var other = agent.AnotherAgent();

        var runs = await Task.WhenAll(agent.ScanAsync(), other.GetRequiredService<ScanService>().RunAsync(null, default));

        var mailboxes = tenant.Mailboxes.Count;
        Assert.Equal(mailboxes, runs.Sum(r => r.Mailboxes));
        var starts = agent.Simulator.Counters.RoundStartsByMailbox;
        Assert.Equal(tenant.ReadableMailboxes.Count, starts.Count);
        Assert.All(starts, s => Assert.Equal(1, s.Value));
        Assert.Equal(Tenants.Keys(tenant.ExpectedFindings(30)), Tenants.Keys(await agent.FindingsAsync()));
        var status = await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default);
        Assert.Equal(mailboxes, status.Cluster.Covered);
        Assert.NotNull(status.Cluster.Cycle!.FinishedAt);
        Assert.Equal(mailboxes, status.Cluster.Shares.Sum(s => s.Covered));
        Assert.All(status.Cluster.Shares, s => Assert.Equal(0, s.Leased));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task ExpiredLease_AnotherAgentTakesTheMailboxOver_AndTheFirstAgentsLateWriteIsDropped(Backend backend)
    {
        var time = new FakeTimeProvider(TenantBuilder.Now);
        var builder = new TenantBuilder();
        var alice = builder.User("alice");
        var bob = builder.User("bob");
        await using var agent = await AgentHarness.StartAsync(builder.Tenant, time: time, backend: backend);
        await agent.Services.GetRequiredService<Database>().MigrateAsync(default);
        await using var other = agent.AnotherAgent();
        var first = agent.Services.GetRequiredService<ClusterStore>();
        var second = other.GetRequiredService<ClusterStore>();
        var lease = TimeSpan.FromSeconds(60);
        var (cycle, opened) = await first.OpenOrJoinAsync([new Mailbox(alice.Id, alice.Mail!, null), new Mailbox(bob.Id, bob.Mail!, null)], ["contoso.com"], time.GetUtcNow().AddDays(-30), time.GetUtcNow(), null, default);
        Assert.True(opened);

        Assert.Equal(2, (await first.ClaimAsync(cycle.Id, 20, time.GetUtcNow(), lease, default)).Count);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(await second.ClaimAsync(cycle.Id, 20, time.GetUtcNow(), lease, default));
        time.Advance(TimeSpan.FromSeconds(31));
        var taken = await second.ClaimAsync(cycle.Id, 20, time.GetUtcNow(), lease, default);
        Assert.Equal([alice.Id, bob.Id], taken.Select(m => m.Id).Order());

        var late = await agent.Services.GetRequiredService<ScanStore>().SavePagesAsync(
            [Page(alice.Id, "late-link", "msg-late")], [], new MailboxLease(cycle.Id, first.Owner), time.GetUtcNow(), default);
        Assert.Equal((0, 1), late);
        var scanStore = other.GetRequiredService<ScanStore>();
        Assert.Equal((1, 0), await scanStore.SavePagesAsync([Page(alice.Id, "delta-link", "msg-1")], [], new MailboxLease(cycle.Id, second.Owner), time.GetUtcNow(), default));
        Assert.False(await second.FinishIfCoveredAsync(cycle.Id, time.GetUtcNow(), default));
        await scanStore.SavePagesAsync([], [new MailboxFailure(bob.Id, "403 ErrorAccessDenied")], new MailboxLease(cycle.Id, second.Owner), time.GetUtcNow(), default);
        Assert.True(await second.FinishIfCoveredAsync(cycle.Id, time.GetUtcNow(), default));

        var findings = await agent.FindingsAsync();
        Assert.Equal("msg-1", Assert.Single(findings).GraphMessageId);
        await using var c = await agent.Services.GetRequiredService<Database>().OpenAsync(default);
        Assert.Equal("delta-link", await c.ExecuteScalarAsync<string>("SELECT delta_link FROM mailboxes WHERE id = @Id", new { alice.Id }));
        var status = await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default);
        var share = Assert.Single(status.Cluster.Shares);
        Assert.Equal((second.Owner, 2, 0), (share.Agent, share.Covered, share.Leased));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task AgentStoppedMidCycle_GivesItsMailboxesBack_AndTheNextScanFinishesTheCycle(Backend backend)
    {
        var tenant = Tenants.Tenant(mailboxes: 30);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(20) },
            new Dictionary<string, string?> { ["Scan:MaxParallelMailboxes"] = "2", ["Graph:PageSize"] = "10" }, backend: backend);
        using var stop = new CancellationTokenSource();
        var progress = new Progress<ScanProgress>(p =>
        {
            if (p.MailboxesDone == 5)
            {
                stop.Cancel();
            }
        });
        await agent.Services.GetRequiredService<Database>().MigrateAsync(default);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent.Services.GetRequiredService<ScanService>().RunAsync(progress, stop.Token));
        var midway = await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default);
        Assert.Null(midway.Cluster.Cycle!.FinishedAt);
        Assert.All(midway.Cluster.Shares, s => Assert.Equal(0, s.Leased));

        await using var other = agent.AnotherAgent();
        await other.GetRequiredService<ScanService>().RunAsync(null, default);

        var status = await other.GetRequiredService<StatusQueries>().GetAsync(default);
        Assert.Equal(midway.Cluster.Cycle.Id, status.Cluster.Cycle!.Id);
        Assert.NotNull(status.Cluster.Cycle.FinishedAt);
        Assert.Equal(tenant.Mailboxes.Count, status.Cluster.Covered);
        Assert.Equal(Tenants.Keys(tenant.ExpectedFindings(30)), Tenants.Keys(await agent.FindingsAsync()));
    }

    private static PageWrite Page(string mailboxId, string link, string messageId)
    {
        var recipients = Enumerable.Range(1, 12).Select(i => new ExposedRecipient($"p{i}@example.org", null, RecipientField.To)).ToList();
        var finding = new Finding(mailboxId, messageId, $"<{messageId}@contoso.com>", null, "Update", TenantBuilder.Now, mailboxId + "@contoso.com", null, 12, 1, 0, recipients);
        return new PageWrite(mailboxId, [new FindingWrite(finding, [])], [], link, RoundComplete: true, StartedOver: false);
    }
}
