using AuditAgent.Simulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>The scanner end to end: Graph SDK over HTTP against the simulator, into a real SQLite file.</summary>
public class ScanTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_SeededTenant_FindsExactlyTheKnownExposures(Backend backend)
    {
        var tenant = Tenant();
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend);

        var summary = await agent.ScanAsync();

        var expected = tenant.ExpectedFindings(lookbackDays: 30);
        var findings = await agent.FindingsAsync();
        Assert.True(expected.Count >= 5, "the generated tenant should hold several exposures in the window");
        Assert.Equal(Keys(expected), Keys(findings));
        Assert.Equal("succeeded", summary.Status);
        Assert.Equal(expected.Count, summary.NewFindings);
        foreach (var e in expected)
        {
            var f = findings.Single(r => r.GraphMessageId == e.GraphMessageId && r.MailboxId == e.MailboxId);
            Assert.Equal(e.VisibleExternalCount, f.VisibleExternalCount);
            Assert.Equal(e.ExternalDomainCount, f.ExternalDomainCount);
            Assert.Equal(e.InternetMessageId, f.InternetMessageId);
            Assert.Equal(e.SenderAddress, f.SenderAddress);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_SeededTenant_ReadsBlockedAndSharedMailboxes_SkipsUsersWithoutAMailboxAndOldMail(Backend backend)
    {
        var tenant = Tenant();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend, time: clock);

        var summary = await agent.ScanAsync();

        var findings = Keys(await agent.FindingsAsync());
        Assert.Equal(tenant.Mailboxes.Count, summary.Mailboxes);
        Assert.Empty(summary.Failures); // a user without an Exchange Online mailbox is not a failure
        var leaver = tenant.Tenant.Users[1];
        var shared = tenant.Tenant.Users.Single(u => u.UserPurpose == "shared");
        Assert.False(leaver.AccountEnabled);
        Assert.Contains(findings, f => f.Item1 == leaver.Id); // a blocked sign-in does not undo a disclosure
        Assert.Contains(findings, f => f.Item1 == shared.Id);
        var notExpected = tenant.Exposures.Except(tenant.ExpectedFindings(30)).ToList();
        Assert.Contains(notExpected, e => e.MailboxScanned); // sent before the look-back window
        Assert.DoesNotContain(findings, f => Keys(notExpected).Contains(f));
        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations("delta", tenant.Tenant.Users[2].Id)); // no mail address: not a mailbox

        var kiosk = tenant.Tenant.Users.Single(u => !u.HasMailbox);
        var mailboxes = (await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default)).Mailboxes;
        Assert.Equal("no Exchange Online mailbox (tried again daily)", mailboxes.Single(m => m.Address == kiosk.Mail).Kind);
        Assert.Equal("sign-in blocked", mailboxes.Single(m => m.Address == leaver.Mail).Kind);
        Assert.Null(mailboxes.Single(m => m.Address == kiosk.Mail).LastError);

        // The next cycle does not ask for it again; a day later it does.
        agent.Simulator.Counters.Reset();
        await agent.ScanAsync();
        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations(kiosk.Id));
        clock.Advance(TimeSpan.FromHours(25));
        await agent.ScanAsync();
        Assert.Equal(1, agent.Simulator.Counters.MailboxOperations(kiosk.Id));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_SecondScanWithoutNewMail_AddsNothingAndCostsOneRequestPerMailbox(Backend backend)
    {
        var tenant = Tenant();
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, settings: new Dictionary<string, string?> { ["Graph:PageSize"] = "7" }, backend: backend);
        await agent.ScanAsync();
        var before = Keys(await agent.FindingsAsync());
        agent.Simulator.Counters.Reset();

        var second = await agent.ScanAsync();

        Assert.Equal(0, second.NewFindings);
        Assert.Equal(0, second.Messages);
        Assert.Equal(before, Keys(await agent.FindingsAsync()));
        Assert.Equal(0, agent.Simulator.Counters.MessagesServed);
        var scanned = tenant.ReadableMailboxes.ToList();
        foreach (var user in scanned)
        {
            Assert.Equal(1, agent.Simulator.Counters.MailboxOperations(user.Id));
        }

        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations(tenant.Tenant.Users.Single(u => !u.HasMailbox).Id)); // tried again only a day later

        // Delta links go 20 to a $batch: users, domains and one HTTP request per 20 mailboxes.
        Assert.Equal(2 + ((scanned.Count + 19) / 20), agent.Simulator.Counters.HttpRequests);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_BatchedRescanWith429sInsideBatches_FindsNewMailAndResyncsLostTokens(Backend backend)
    {
        var tenant = Tenant(mailboxes: 45);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { FaultRate = 0.2, FaultSeed = 77 }, backend: backend);
        await agent.ScanAsync();
        var expected = Keys(tenant.ExpectedFindings(30));
        var scanned = tenant.ReadableMailboxes.ToList();
        for (var i = 0; i < 3; i++)
        {
            scanned[i * 10].AddSentItem(TenantGenerator.Exposure(scanned[i * 10], $"later-{i}", DateTimeOffset.UtcNow, visible: 12, seed: i));
            expected.Add((scanned[i * 10].Id, $"later-{i}"));
        }

        scanned[5].InvalidateDeltaTokens();
        scanned[25].InvalidateDeltaTokens();
        agent.Simulator.Counters.Reset();

        var rescan = await agent.ScanAsync();

        Assert.Equal("succeeded", rescan.Status);
        Assert.Equal(2, rescan.Resyncs);
        Assert.True(agent.Simulator.Counters.Operations("batch") >= 3);
        Assert.True(agent.Simulator.Counters.FaultsInjected > 0);
        var findings = await agent.FindingsAsync();
        Assert.Equal(expected, Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_MailAddedAfterAScan_IsFoundNextTimeAndOnlyNewMailIsFetched(Backend backend)
    {
        var tenant = Tenant(mailboxes: 20);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend);
        await agent.ScanAsync();
        var before = Keys(await agent.FindingsAsync());
        var sender = tenant.Tenant.Users[5];
        sender.AddSentItem(TenantGenerator.Exposure(sender, "new-exposure-1", DateTimeOffset.UtcNow, visible: 14, seed: 99));
        sender.AddSentItem(new SimMessage
        {
            Id = "new-ordinary-1",
            Subject = "Lunch?",
            SentDateTime = DateTimeOffset.UtcNow,
            ReceivedDateTime = DateTimeOffset.UtcNow,
            From = new SimRecipient(sender.Mail, sender.DisplayName),
            To = [new SimRecipient("friend@fabrikam.com", "Friend")],
        });
        agent.Simulator.Counters.Reset();

        var second = await agent.ScanAsync();

        var after = await agent.FindingsAsync();
        Assert.Equal(1, second.NewFindings);
        Assert.Equal(before.Append((sender.Id, "new-exposure-1")).ToHashSet(), Keys(after));
        Assert.Equal(14, after.Single(f => f.GraphMessageId == "new-exposure-1").VisibleExternalCount);
        Assert.Equal(2, agent.Simulator.Counters.MessagesServed);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_InvalidatedDeltaToken_ResyncsTheWindowWithoutDuplicates(Backend backend)
    {
        var tenant = Tenant(mailboxes: 24);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend);
        await agent.ScanAsync();
        var expected = Keys(tenant.ExpectedFindings(30));
        var lost = tenant.ReadableMailboxes.Take(5).ToList();
        foreach (var user in lost)
        {
            user.InvalidateDeltaTokens();
        }

        lost[0].AddSentItem(TenantGenerator.Exposure(lost[0], "after-resync", DateTimeOffset.UtcNow, visible: 11, seed: 5));
        expected.Add((lost[0].Id, "after-resync"));

        var second = await agent.ScanAsync();

        Assert.Equal(lost.Count, second.Resyncs);
        Assert.Equal(1, second.NewFindings);
        var findings = await agent.FindingsAsync();
        Assert.Equal(expected, Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);

        // The resynced mailboxes are incremental again afterwards.
        agent.Simulator.Counters.Reset();
        var third = await agent.ScanAsync();
        Assert.Equal(0, third.Resyncs);
        Assert.Equal(0, agent.Simulator.Counters.MessagesServed);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_WithConcurrencyLimitAndRandom429And503_FindsTheSameAsAFaultFreeScan(Backend backend)
    {
        var tenant = Tenant(mailboxes: 40);
        await using var agent = await AgentHarness.StartAsync(
            tenant.Tenant,
            new SimulatorOptions { FaultRate = 0.15, FaultSeed = 1234, MailboxConcurrencyLimit = 4 },
            new Dictionary<string, string?> { ["Graph:PageSize"] = "10", ["Scan:MaxParallelMailboxes"] = "32" },
            backend: backend);

        var summary = await agent.ScanAsync();

        Assert.True(summary.Status == "succeeded", string.Join("; ", summary.Failures.Select(f => f.Reason).Distinct()));
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(await agent.FindingsAsync()));
        Assert.True(agent.Simulator.Counters.FaultsInjected > 10, $"only {agent.Simulator.Counters.FaultsInjected} faults were injected");
        Assert.InRange(agent.Simulator.Counters.MaxMailboxConcurrency, 1, 4);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_MailboxOutsideTheAppsScope_FailsAloneWithTheReason(Backend backend)
    {
        var tenant = Tenant(mailboxes: 20);
        var blocked = tenant.Tenant.Users[4];
        blocked.OutsideAppScope = true;
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend);

        var summary = await agent.ScanAsync();

        Assert.Equal("partial", summary.Status);
        var failure = Assert.Single(summary.Failures);
        Assert.Equal(blocked.Id, failure.MailboxId);
        Assert.Contains("403", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("ErrorAccessDenied", failure.Reason, StringComparison.Ordinal);
        var expected = tenant.ExpectedFindings(30).Where(e => e.MailboxId != blocked.Id);
        Assert.Equal(Keys(expected), Keys(await agent.FindingsAsync()));
    }
}
