using System.Text.Json.Nodes;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Scanning;

/// <summary>
/// A Graph that answers in ways no well-behaved service would: impossible dates, bodies that stall or
/// trickle, paging links that never advance, hour-long Retry-After. Each must end in a clear failure of
/// what it touched (or a counted, skipped message), never a hang or a stuck agent.
/// </summary>
public sealed class HostileGraphTests
{
    private static readonly string[] Outsiders = [.. TenantBuilder.People(12, TenantBuilder.Companies)];

    [SkippableTheory]
    [InlineData("0001-01-01T00:00:00Z", Backend.Sqlite)]
    [InlineData("0001-01-02T00:00:00+14:00", Backend.Sqlite)]
    [InlineData("1989-12-31T23:59:59Z", Backend.Sqlite)]
    [InlineData("far-future", Backend.Sqlite)]
    [InlineData("0001-01-01T00:00:00Z", Backend.PostgreSql)]
    [InlineData("far-future", Backend.PostgreSql)]
    public async Task Scan_MessageWithAnImpossibleSentTime_IsCountedAsMalformedWithItsMailbox_AndIncidentsStillOpen(string sent, Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var bob = t.User("bob");
        var sentText = sent == "far-future" ? DateTimeOffset.UtcNow.AddDays(3).ToString("o") : sent;
        ann.AddSentItem(SimMessage.FromJson(RawExposure("odd-date", sentText, DateTimeOffset.UtcNow.AddHours(-2))));
        t.Send(bob, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);

        var outcome = await agent.ScanPipelineAsync();

        Assert.Equal("succeeded", outcome.Scan.Status);
        Assert.Equal(1, outcome.Scan.MalformedMessages);
        Assert.Equal(1, outcome.Incidents.Opened);
        Assert.Equal(["bob@contoso.com"], (await agent.FindingsAsync()).Select(f => f.MailboxAddress));
        var status = await agent.Services.GetRequiredService<StatusQueries>().GetAsync(CancellationToken.None);
        Assert.Equal(1, status.Mailboxes.Single(m => m.Address == "ann@contoso.com").SkippedMessages);
        Assert.Equal(0, status.Mailboxes.Single(m => m.Address == "bob@contoso.com").SkippedMessages);
    }

    [Fact]
    public async Task Scan_ErrorAnswersStalledOrCutOff_AreSentAgain_AndReadAsGraphMeantThem()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var kiosk = t.User("kiosk");
        var gone = t.User("gone");
        t.Send(ann, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        // Each mailbox's first answer stalls past the deadline or is cut off on the way; the one sent again arrives
        // whole. A stalled error was read as "the response could not be deserialized", a failure (the chaos suite, seed 700).
        SimFault? Intercept(SimOperation op) => op.Kind != "delta" ? null
            : op.MailboxId == kiosk.Id ? new SimFault(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.") { Wire = op.Sequence == 1 ? SimWire.StalledBody : SimWire.Whole }
            : op.MailboxId == gone.Id ? new SimFault(404, "ErrorInvalidUser", $"The requested user '{gone.Id}' is invalid.") { Wire = op.Sequence == 1 ? SimWire.CutBody : SimWire.Whole }
            : null;
        await using var agent = await AgentHarness.StartAsync(t.Tenant, new SimulatorOptions { Interceptor = Intercept }, new Dictionary<string, string?> { ["Graph:TimeoutSeconds"] = "1" });

        var scan = await agent.ScanAsync();

        // The kiosk has no mailbox (not a failure); the deleted user fails with Graph's own reason, not "could not be read".
        Assert.Equal([(gone.Id, true)], scan.Failures.Select(f => (f.MailboxId, f.Reason.Contains("404 ErrorInvalidUser", StringComparison.Ordinal))));
        Assert.Equal(2, agent.Simulator.Counters.MailboxOperations("delta", kiosk.Id));
        Assert.Equal(["ann@contoso.com"], (await agent.FindingsAsync()).Select(f => f.MailboxAddress));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Processing_AFindingStoredWithAnImpossibleSentTime_IsSetAsideAndNeverBlocksTheOthers(Backend backend)
    {
        var t = new TenantBuilder();
        var bob = t.User("bob");
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);
        await agent.ScanPipelineAsync();
        // As an older version stored it, before sent times were checked.
        var database = agent.Services.GetRequiredService<Database>();
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("""
                INSERT INTO findings (mailbox_id, graph_message_id, subject, sent_at, sender_address, visible_external_count, external_domain_count, bcc_count, detected_at)
                VALUES ('id-bob', 'legacy', 'Old', @sent, 'bob@contoso.com', 12, 5, 0, @detected)
                """, new { sent = new DateTimeOffset(1, 1, 1, 0, 0, 0, TimeSpan.Zero), detected = TenantBuilder.Now.AddDays(-2) });
        }

        t.Send(bob, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        var outcome = await agent.ScanPipelineAsync();

        Assert.Equal(1, outcome.Incidents.Opened);
        await using var read = await database.OpenAsync(CancellationToken.None);
        var reason = await read.ExecuteScalarAsync<string>("SELECT suppression_reason FROM findings WHERE graph_message_id = 'legacy' AND processed_at IS NOT NULL");
        Assert.StartsWith("not assessed: its sent time 0001-01-01", reason, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task IncidentProcessingFailing_IsAFailedScanInStatus(Backend backend)
    {
        var t = new TenantBuilder();
        var bob = t.User("bob");
        t.Send(bob, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        AgentHarness? agent = null;
        agent = await AgentHarness.StartAsync(t.Tenant, new SimulatorOptions
        {
            // While the scan reads, something breaks what incident processing needs (here: a table it reads).
            Interceptor = op =>
            {
                if (op is { Kind: "delta", Sequence: 1 })
                {
                    using var c = agent!.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
                    c.Execute("ALTER TABLE allowlist RENAME TO allowlist_gone");
                }

                return null;
            },
        }, backend: backend);
        await using var _ = agent;

        var error = await Assert.ThrowsAsync<IncidentProcessingException>(() => agent.ScanPipelineAsync());

        Assert.StartsWith("incident processing failed", error.Message, StringComparison.Ordinal);
        var last = (await agent.Services.GetRequiredService<StatusQueries>().GetAsync(CancellationToken.None)).LastScan!;
        Assert.Equal("failed", last.Status);
        Assert.StartsWith("incident processing failed", last.Error, StringComparison.Ordinal);
        if (backend == Backend.PostgreSql)
        {
            return; // the CLI check below reads the SQLite file
        }

        var check = await Commands.RunAsync("status", "--check", "--db", agent.DatabasePath);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("the last scan (started", check.Output, StringComparison.Ordinal);
        Assert.Contains("failed: incident processing failed", check.Output, StringComparison.Ordinal);
        var digest = await Commands.RunAsync("digest", "--preview", "--db", agent.DatabasePath);
        Assert.Contains("(failed), 1 mailboxes", digest.Output, StringComparison.Ordinal);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(SimWire.StalledBody)]
    [InlineData(SimWire.TrickledBody)]
    public async Task Scan_BodyThatStallsOnce_TimesOutAndIsRetried(SimWire wire)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        await using var agent = await AgentHarness.StartAsync(
            t.Tenant,
            new SimulatorOptions { Interceptor = op => op is { Kind: "delta", Sequence: 1 } ? SimFault.Delivered(wire) : null },
            new Dictionary<string, string?> { ["Graph:TimeoutSeconds"] = "1" });

        var summary = await agent.ScanAsync();

        Assert.Equal("succeeded", summary.Status);
        Assert.Single(await agent.FindingsAsync());
        Assert.Equal(2, agent.Simulator.Counters.MailboxOperations("delta", ann.Id));
    }

    [SkippableTheory(Timeout = 120_000)]
    [InlineData(SimWire.StalledBody, Backend.Sqlite)]
    [InlineData(SimWire.TrickledBody, Backend.Sqlite)]
    [InlineData(SimWire.StalledBody, Backend.PostgreSql)]
    public async Task Scan_MailboxWhoseBodyAlwaysStalls_FailsAloneAsATimeout(SimWire wire, Backend backend)
    {
        await using var broken = await OneBrokenMailboxAsync(
            (op, ann) => op.MailboxId == ann.Id ? SimFault.Delivered(wire) : null,
            new() { ["Graph:TimeoutSeconds"] = "1", ["Graph:MaxRetries"] = "1" },
            backend: backend);

        Assert.Equal("partial", broken.Summary.Status);
        await broken.FailedAloneAsync("did not send the whole response within 1 s");
    }

    [Fact(Timeout = 120_000)]
    public async Task Scan_DeltaNextLinkThatNeverAdvances_FailsThatMailboxWithTheReason()
    {
        await using var broken = await OneBrokenMailboxAsync(
            (op, ann) => op.MailboxId == ann.Id && op.Sequence >= 2 ? SimFault.Delivered(SimWire.RepeatedLink) : null,
            new() { ["Graph:PageSize"] = "2", ["Scan:BatchRescans"] = "false" },
            brokenMailboxMessages: 6);

        await broken.FailedAloneAsync("same @odata.nextLink twice");
        Assert.True(broken.DeltaRequests <= 3);
    }

    [Fact(Timeout = 120_000)]
    public async Task Scan_UsersNextLinkThatNeverAdvances_FailsTheScanWithTheReason()
    {
        var t = new TenantBuilder();
        foreach (var name in new[] { "ann", "bob", "cat" })
        {
            t.User(name);
        }

        await using var agent = await AgentHarness.StartAsync(
            t.Tenant,
            new SimulatorOptions
            {
                // One user per page, so the listing has a next link to follow.
                MaxUsersPageSize = 1,
                Interceptor = op => op is { Kind: "users", Sequence: >= 2 } ? SimFault.Delivered(SimWire.RepeatedLink) : null,
            });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => agent.ScanAsync());

        Assert.Contains("same @odata.nextLink twice while listing users", AuditAgent.Graph.GraphErrors.Describe(error), StringComparison.Ordinal);
        Assert.True(agent.Simulator.Counters.Operations("users") <= 3);
    }

    [Fact(Timeout = 120_000)]
    public async Task Scan_MailboxThrottledForAnHour_FailsAloneSayingSo_WithoutWaiting()
    {
        await using var broken = await OneBrokenMailboxAsync(
            (op, ann) => op.MailboxId == ann.Id ? new SimFault(429, "ApplicationThrottled", "Too many requests.", 3600) : null,
            new() { ["Graph:MaxRetryAfterSeconds"] = "30" });

        await broken.FailedAloneAsync("asked to wait 3600 s, longer than Graph:MaxRetryAfterSeconds (30 s)");
        Assert.Equal(1, broken.DeltaRequests);
    }

    [Fact]
    public async Task Scan_SameGraphIdTwiceWithOtherRecipients_IsSkippedAndCounted()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Price list", TenantBuilder.Now.AddHours(-2), Outsiders);
        var first = ann.SentItemsRange(0, 1).Single();
        ann.AddSentItem(new SimMessage
        {
            Id = first.Id,
            InternetMessageId = "<other@contoso.com>",
            Subject = "Something else",
            SentDateTime = TenantBuilder.Now.AddHours(-1),
            ReceivedDateTime = TenantBuilder.Now.AddHours(-1),
            From = first.From,
            To = [.. TenantBuilder.People(15, "litwareinc.com", "proseware.com").Select(a => new SimRecipient(a, null))],
        });
        await using var agent = await AgentHarness.StartAsync(t.Tenant);

        var summary = await agent.ScanAsync();

        Assert.Equal(1, summary.MalformedMessages);
        var finding = Assert.Single(await agent.FindingsAsync());
        Assert.Equal("Price list", finding.Subject);
        var status = await agent.Services.GetRequiredService<StatusQueries>().GetAsync(CancellationToken.None);
        Assert.Equal(1, status.Mailboxes.Single().SkippedMessages);
    }

    [Fact(Timeout = 120_000)]
    public async Task Scan_PageLargerThanTheResponseCap_FailsThatMailboxClearly()
    {
        await using var broken = await OneBrokenMailboxAsync(
            (_, _) => null,
            new() { ["Graph:MaxResponseMegabytes"] = "1" },
            brokenMailboxMessages: 1,
            brokenSubject: new string('x', 1_200_000));

        await broken.FailedAloneAsync("larger than 1 MB (Graph:MaxResponseMegabytes)");
    }

    [Theory(Timeout = 120_000)]
    [InlineData("stalled", "did not send the whole response within 1 s")]
    [InlineData("throttled for an hour", "asked to wait 3600 s, longer than Graph:MaxRetryAfterSeconds (20 s)")]
    public async Task ScanCommand_DirectoryListingStalledOrThrottledForAnHour_SaysWhatHappenedAndExits1(string fault, string expected)
    {
        var t = new TenantBuilder();
        t.User("ann");
        await using var simulator = await SimulatorServer.StartAsync(t.Tenant, new SimulatorOptions
        {
            Interceptor = op => op.Kind != "users" ? null
                : fault == "stalled" ? SimFault.Delivered(SimWire.StalledBody) : new SimFault(429, "TooManyRequests", "Too many requests.", 3600),
        });
        using var folder = new TempFolder();
        var config = await folder.WriteSettingsAsync(new
        {
            Graph = new { simulator.BaseUrl, AccessToken = simulator.Token, TimeoutSeconds = 1, MaxRetries = 1, RetryDelaySeconds = 0, MaxRetryAfterSeconds = 20 },
            Storage = new { SqlitePath = Path.Combine(folder.Path, "agent.db") },
        });

        var (code, _, error) = await Commands.RunAsync("scan", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("cancelled", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstSync_WhileThisClockIsFarFromGraphs_IsRefused_AndRunsOnceTheClockIsRight()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        // Graph 400 days behind: this machine's clock is 400 days ahead.
        agent.Simulator.ClockOffset = TimeSpan.FromDays(-400);

        var skewed = await agent.ScanAsync();

        var failure = Assert.Single(skewed.Failures);
        Assert.Contains("clock is 400 days ahead of Microsoft Graph's", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(0, agent.Simulator.Counters.MailboxOperations("delta", ann.Id));

        agent.Simulator.ClockOffset = TimeSpan.Zero;
        var corrected = await agent.ScanAsync();

        Assert.Equal("succeeded", corrected.Status);
        Assert.Single(await agent.FindingsAsync());
    }

    /// <summary>
    /// Ann's mailbox meets <paramref name="fault"/> (on its delta requests); Bob sent one exposure. The scan
    /// must fail Ann's mailbox alone and still find Bob's exposure.
    /// </summary>
    private static async Task<BrokenMailbox> OneBrokenMailboxAsync(
        Func<SimOperation, SimUser, SimFault?> fault,
        Dictionary<string, string?> settings,
        int brokenMailboxMessages = 0,
        string brokenSubject = "Note",
        Backend backend = Backend.Sqlite)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var bob = t.User("bob");
        for (var i = 0; i < brokenMailboxMessages; i++)
        {
            t.Send(ann, $"{brokenSubject} {i}", TenantBuilder.Now.AddHours(-i - 1), ["partner@fabrikam.com"]);
        }

        t.Send(bob, "Price list", TenantBuilder.Now.AddHours(-1), Outsiders);
        var agent = await AgentHarness.StartAsync(
            t.Tenant,
            new SimulatorOptions { Interceptor = op => op.Kind == "delta" ? fault(op, ann) : null },
            settings,
            backend: backend);
        return new BrokenMailbox(agent, ann, await agent.ScanAsync());
    }

    private sealed record BrokenMailbox(AgentHarness Agent, SimUser Ann, ScanSummary Summary) : IAsyncDisposable
    {
        public long DeltaRequests => Agent.Simulator.Counters.MailboxOperations("delta", Ann.Id);

        public async Task FailedAloneAsync(string reason)
        {
            var failure = Assert.Single(Summary.Failures);
            Assert.Equal(Ann.Id, failure.MailboxId);
            Assert.Contains(reason, failure.Reason, StringComparison.Ordinal);
            Assert.Equal(["bob@contoso.com"], (await Agent.FindingsAsync()).Select(f => f.MailboxAddress));
        }

        public ValueTask DisposeAsync() => Agent.DisposeAsync();
    }

    private static JsonObject RawExposure(string id, string sent, DateTimeOffset received)
    {
        var to = new JsonArray([.. Outsiders.Select(a => (JsonNode)new JsonObject { ["emailAddress"] = new JsonObject { ["address"] = a, ["name"] = a } })]);
        return new JsonObject
        {
            ["id"] = id,
            ["internetMessageId"] = $"<{id}@contoso.com>",
            ["conversationId"] = id,
            ["subject"] = "Odd date",
            ["sentDateTime"] = sent,
            ["receivedDateTime"] = received.ToString("o"),
            ["from"] = new JsonObject { ["emailAddress"] = new JsonObject { ["address"] = "ann@contoso.com", ["name"] = "Ann" } },
            ["toRecipients"] = to,
        };
    }
}
