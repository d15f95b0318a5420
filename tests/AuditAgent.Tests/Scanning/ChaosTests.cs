using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>
/// Faults on the wire and in Graph's answers, across seeded runs: every scan completes with exactly the
/// findings of a fault-free one. Random 429/503 (the SDK retries them), resets and cut-off bodies (the
/// agent retries them), inside and outside $batch.
/// </summary>
public class ChaosTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Scan_UnderResetsCutOffBodiesAndThrottling_EqualsAFaultFreeScan(int seed)
    {
        var tenant = Tenant(mailboxes: 30, messages: 30, seed: 100 + seed);
        await using var agent = await AgentHarness.StartAsync(
            tenant.Tenant,
            new SimulatorOptions { FaultRate = 0.1, TransportFaultRate = 0.1, FaultSeed = seed },
            new Dictionary<string, string?> { ["Graph:PageSize"] = "8" });

        var first = await agent.ScanAsync();
        var later = scannedNewMail(tenant);
        var rescan = await agent.ScanAsync();

        Assert.Equal("succeeded", first.Status);
        Assert.Equal("succeeded", rescan.Status);
        Assert.True(agent.Simulator.Counters.FaultsInjected > 5, $"only {agent.Simulator.Counters.FaultsInjected} faults");
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)).Append(later).ToHashSet(), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);

        static (string, string) scannedNewMail(GeneratedTenant tenant)
        {
            var user = tenant.Tenant.Users.First(u => u.Mail is not null && u.HasMailbox);
            user.AddSentItem(TenantGenerator.Exposure(user, "after-chaos", DateTimeOffset.UtcNow, visible: 12, seed: 1));
            return (user.Id, "after-chaos");
        }
    }

    [Fact]
    public async Task Scan_MailboxDeletedAfterListing_FailsAloneWithTheReason()
    {
        var tenant = Tenant(mailboxes: 20, messages: 20, seed: 9);
        var gone = tenant.Tenant.Users.First(u => u.Mail is not null && u.HasMailbox && u.Id != tenant.Tenant.Users[0].Id);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions
        {
            Interceptor = op => op.Kind == "delta" && op.MailboxId == gone.Id ? new SimFault(404, "ErrorInvalidUser", $"The requested user '{gone.Id}' is invalid.") : null,
        });

        var summary = await agent.ScanAsync();

        var failure = Assert.Single(summary.Failures);
        Assert.Equal(gone.Id, failure.MailboxId);
        Assert.Contains("404 ErrorInvalidUser", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(Keys(tenant.ExpectedFindings(30).Where(e => e.MailboxId != gone.Id)), Keys(await agent.FindingsAsync()));
    }

    [Fact]
    public async Task Scan_DeltaStateLostMidRound_StartsTheMailboxOverWithoutDuplicates()
    {
        var tenant = Tenant(mailboxes: 12, messages: 40, seed: 4);
        var target = tenant.Tenant.Users.First(u => u.Mail is not null && u.HasMailbox);
        SimFault? Intercept(SimOperation op)
        {
            // Graph loses the sync state while the agent is paging through this mailbox's first round.
            if (op.Kind == "delta" && op.MailboxId == target.Id && op.Sequence == 3)
            {
                target.InvalidateDeltaTokens();
            }

            return null;
        }

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept }, new Dictionary<string, string?> { ["Graph:PageSize"] = "4" });

        var summary = await agent.ScanAsync();

        Assert.Equal("succeeded", summary.Status);
        Assert.Equal(1, summary.Resyncs);
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }
}
