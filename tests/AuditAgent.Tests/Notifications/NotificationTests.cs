using AuditAgent.Notifications;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Notifications;

/// <summary>The daily digest and the escalations, sent through the simulator's Graph sendMail.</summary>
public class NotificationTests
{
    /// <summary>Mail through Graph from auditagent@contoso.com, with every contact set.</summary>
    internal static Dictionary<string, string?> Mail(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Notifications:Transport"] = "Graph",
            ["Notifications:SenderMailbox"] = "auditagent@contoso.com",
            ["Notifications:DigestRecipients:0"] = "security@contoso.com",
            ["Notifications:SecurityContact"] = "sam@contoso.com",
            ["Notifications:FallbackEscalationContact"] = "privacy@contoso.com",
            ["Schedule:TimeZone"] = "Europe/Berlin",
        };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }

        return settings;
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Digest_SentThroughGraph_ShowsIncidentsCountsAndChart_AndEncodesMailboxText(Backend backend)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var eve = t.User("eve");
        var ann = t.User("ann");
        eve.AddSentItem(new AuditAgent.Simulator.SimMessage
        {
            Id = "x1", Subject = "<script>alert(1)</script>", SentDateTime = Now.AddDays(-1), ReceivedDateTime = Now.AddDays(-1),
            From = new AuditAgent.Simulator.SimRecipient(eve.Mail, "<b>Eve</b> \"Admin\""),
            To = People(30, Companies).Select(a => new AuditAgent.Simulator.SimRecipient(a, null)).ToList(),
        });
        t.Send(ann, "Price list", Now.AddDays(-1), People(110, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(), backend: backend);
        await agent.ScanAndProcessAsync();

        var run = await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);

        var failed = await agent.Services.GetRequiredService<OutboxStore>().InStatusAsync("failed", CancellationToken.None);
        Assert.True(run.Delivery.Sent == 1, string.Join("; ", failed.Select(f => f.LastError)));
        var mail = Assert.Single(agent.Simulator.Tenant.SentMail);
        Assert.Equal(t.Tenant.FindUser("auditagent@contoso.com")!.Id, mail.UserId);
        Assert.Equal(["security@contoso.com"], mail.To);
        Assert.StartsWith("AuditAgent daily digest ", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("2 new incidents", mail.Subject, StringComparison.Ordinal);
        var html = mail.Html!;
        Assert.DoesNotContain("<script>", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Eve</b>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;Eve&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"trend\"", html, StringComparison.Ordinal);
        Assert.Contains(">110<", html, StringComparison.Ordinal);
        Assert.DoesNotContain("@fabrikam.com", html, StringComparison.Ordinal);
        Assert.Contains("New incidents: 2.", mail.Text, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Digest_RunTwiceRestartedOrInterruptedAfterSending_IsSentOncePerDay(Backend backend)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(20, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(), backend: backend);
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);
        var second = await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);
        await agent.RestartAsync();
        var afterRestart = await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);

        // A crash between Graph accepting the mail and the outbox recording it: the row is left "sending".
        await using (var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("UPDATE outbox SET status = 'sending', sent_at = NULL");
        }

        await agent.RestartAsync();
        var recovered = await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);

        Assert.Single(agent.Simulator.Tenant.SentMail);
        Assert.False(second.Enqueued);
        Assert.Contains("exists already", afterRestart.Reason, StringComparison.Ordinal);
        Assert.Equal((0, 1), (recovered.Delivery.Sent, recovered.Delivery.Recovered));
        Assert.Single(await agent.Services.GetRequiredService<OutboxStore>().InStatusAsync("sent", CancellationToken.None));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Digest_QuietDay_StillSaysTheAgentIsAlive(Backend backend)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        t.Send(t.User("ann"), "Lunch", Now.AddDays(-1), People(2, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(), backend: backend);
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);

        var mail = Assert.Single(agent.Simulator.Tenant.SentMail);
        Assert.Contains("nothing new, 2 mailboxes scanned", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("This message confirms the agent is running", mail.Text, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Escalation_GoesToTheSendersManagerOrTheFallback_OncePerReason_InTheTimeline(Backend backend)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var mia = t.User("mia");
        var ann = t.User("ann", managerId: mia.Id);
        var bob = t.User("bob");
        t.Send(ann, "Big list", Now.AddDays(-1), People(120, Companies));
        t.Send(bob, "Another big list", Now.AddDays(-1), People(130, Companies));
        t.Send(ann, "Small list", Now.AddDays(-2), People(12, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(), backend: backend);
        await agent.ScanAndProcessAsync();
        var escalations = agent.Services.GetRequiredService<EscalationService>();

        var first = await escalations.RunAsync(CancellationToken.None);
        var second = await escalations.RunAsync(CancellationToken.None);

        Assert.Equal((2, 2), (first.Queued, first.Delivery.Sent));
        Assert.Equal((0, 0), (second.Queued, second.Delivery.Sent));
        var mails = agent.Simulator.Tenant.SentMail;
        var toManager = Assert.Single(mails, m => m.To.SequenceEqual(["mia@contoso.com"]));
        Assert.Contains("<strong>Ann</strong> (ann@contoso.com)", toManager.Html, StringComparison.Ordinal);
        Assert.Contains("Ann (ann@contoso.com) sent", toManager.Text, StringComparison.Ordinal);
        Assert.Matches(@"Incident #\d+ · severity high</p>", toManager.Html);
        Assert.DoesNotContain("the incident is high", toManager.Html + toManager.Text, StringComparison.Ordinal);
        Assert.Contains("Questions go to <strong>sam@contoso.com</strong>, who owns this incident in the security team.", toManager.Html, StringComparison.Ordinal);
        Assert.Contains("What we need from you", toManager.Html, StringComparison.Ordinal);
        Assert.Contains("Apologise from higher up", toManager.Html, StringComparison.Ordinal);
        Assert.Contains("sam@contoso.com", toManager.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("@fabrikam.com", toManager.Html + toManager.Text, StringComparison.Ordinal);
        Assert.Single(mails, m => m.To.SequenceEqual(["privacy@contoso.com"]));
        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
        var timeline = (await agent.IncidentAsync(incidents["Big list"].Id)).Timeline;
        Assert.Contains(timeline, e => e.Kind == "escalation" && e.Text.StartsWith("Escalated to Mia <mia@contoso.com>, the sender's manager", StringComparison.Ordinal));
        Assert.Contains((await agent.IncidentAsync(incidents["Another big list"].Id)).Timeline, e => e.Kind == "escalation" && e.Text.Contains("no manager in the directory", StringComparison.Ordinal));
        Assert.DoesNotContain((await agent.IncidentAsync(incidents["Small list"].Id)).Timeline, e => e.Kind == "escalation");
    }

    [Fact]
    public async Task Escalation_OfMailSentOnBehalfOfASharedMailbox_GoesToThePersonsManager()
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var mia = t.User("mia");
        var ann = t.User("ann", managerId: mia.Id);
        var events = t.SignInBlocked("events");
        // The shared mailbox's copy: from the shared mailbox, sent by ann on its behalf.
        events.AddSentItem(new AuditAgent.Simulator.SimMessage
        {
            Id = "s1", InternetMessageId = "<s1@contoso.com>", Subject = "Customer day", SentDateTime = Now.AddDays(-1), ReceivedDateTime = Now.AddDays(-1),
            From = new AuditAgent.Simulator.SimRecipient(events.Mail, "Events"), Sender = new AuditAgent.Simulator.SimRecipient(ann.Mail, "Ann"),
            To = People(120, Companies).Select(a => new AuditAgent.Simulator.SimRecipient(a, null)).ToList(),
        });
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail());
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);

        var incident = Assert.Single(await agent.IncidentsAsync());
        Assert.Equal(("ann@contoso.com", "events@contoso.com"), (incident.SenderAddress, (await agent.IncidentAsync(incident.Id)).Incident.SentAs));
        Assert.Single(agent.Simulator.Tenant.SentMail, m => m.To.SequenceEqual(["mia@contoso.com"]));
        Assert.DoesNotContain(agent.Simulator.Tenant.SentMail, m => m.To.Contains("privacy@contoso.com"));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Escalation_QuietHoursHoldAllButCritical_AndOverdueStepsEscalateOnce(Backend backend)
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var mia = t.User("mia");
        var ann = t.User("ann", managerId: mia.Id);
        t.Send(ann, "High list", Now.AddDays(-1), People(120, Companies));
        t.Send(ann, "Critical list", Now.AddDays(-1), [.. People(80, Companies), .. People(40, "gmail.com")]);
        t.Send(ann, "Low list", Now.AddDays(-1), People(12, Companies));
        // 22:30 in Berlin (UTC+1): quiet hours 20:00 to 07:00.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T21:30:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(new() { ["Notifications:QuietHoursStart"] = "20:00", ["Notifications:QuietHoursEnd"] = "07:00", ["Scan:LookbackDays"] = "60" }), time: clock, backend: backend);
        await agent.ScanAndProcessAsync();
        var escalations = agent.Services.GetRequiredService<EscalationService>();

        var night = await escalations.RunAsync(CancellationToken.None);
        Assert.Equal((2, 1), (night.Queued, night.Delivery.Sent));
        Assert.Equal(1, agent.Simulator.Counters.Operations("manager")); // two escalations, one sender: one directory lookup
        Assert.Contains("Critical list", Assert.Single(agent.Simulator.Tenant.SentMail).Html, StringComparison.Ordinal);
        var held = Assert.Single(await agent.Services.GetRequiredService<OutboxStore>().InStatusAsync("pending", CancellationToken.None));
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture), held.NotBefore);

        clock.Advance(TimeSpan.FromHours(9)); // 07:30 Berlin: quiet hours are over and "stop the spread" (sender, 4 h) is overdue
        var morning = await escalations.RunAsync(CancellationToken.None);
        var later = await escalations.RunAsync(CancellationToken.None);

        Assert.Equal(3, morning.Queued); // stop-spread overdue for each of the three incidents
        Assert.Equal(4, morning.Delivery.Sent); // the held one and the three overdue ones
        Assert.Equal(0, later.Queued);
        Assert.Equal(5, agent.Simulator.Tenant.SentMail.Count);
        Assert.Equal(3, agent.Simulator.Tenant.SentMail.Count(m => m.Subject!.StartsWith("A step of a privacy incident on your team is overdue", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Escalation_WithNoAssigneeAndNoSecurityContact_SaysTheSecurityTeamOnce()
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var mia = t.User("mia");
        var ann = t.User("ann", managerId: mia.Id);
        t.Send(ann, "Big list", Now.AddDays(-1), People(120, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(new() { ["Notifications:SecurityContact"] = null }));
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);

        var mail = Assert.Single(agent.Simulator.Tenant.SentMail);
        Assert.Contains("Questions go to the security team.</p>", mail.Html, StringComparison.Ordinal);
        Assert.Contains("Questions go to the security team.", mail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("who owns this incident in the security team", mail.Html + mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_AfterAFailedJob_ShowsTheLastJobFailure()
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(12, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail());
        await agent.ScanAndProcessAsync();
        var operations = agent.Services.GetRequiredService<OperationsStore>();
        var id = await operations.StartJobAsync("escalate-incidents", DateTimeOffset.UtcNow, CancellationToken.None);
        await operations.FinishJobAsync(id, "failed", null, "Graph answered 403 ErrorAccessDenied", DateTimeOffset.UtcNow);

        var digest = await agent.Services.GetRequiredService<DigestComposer>().RenderAsync(CancellationToken.None);

        Assert.Contains("Last job failure: escalate-incidents: Graph answered 403 ErrorAccessDenied", digest.Text, StringComparison.Ordinal);
        Assert.Contains("Last job failure: escalate-incidents: Graph answered 403 ErrorAccessDenied", digest.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_SenderWithoutADisplayName_ShowsTheAddressAlone()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        ann.AddSentItem(new AuditAgent.Simulator.SimMessage
        {
            Id = "nameless",
            InternetMessageId = "<nameless@contoso.com>",
            Subject = "Price list",
            SentDateTime = Now.AddHours(-2),
            ReceivedDateTime = Now.AddHours(-2),
            From = new AuditAgent.Simulator.SimRecipient("ann@contoso.com", null),
            To = [.. People(12, Companies).Select(a => new AuditAgent.Simulator.SimRecipient(a, null))],
        });
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail());
        await agent.ScanAndProcessAsync();

        var digest = await agent.Services.GetRequiredService<DigestComposer>().RenderAsync(CancellationToken.None);

        Assert.Contains("<div>ann@contoso.com</div>", digest.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("&lt;ann@contoso.com", digest.Html, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task MailWrittenToTheOutputFolder_IsReadableByItsOwnerOnly()
    {
        var t = new TenantBuilder();
        t.User("auditagent");
        var mia = t.User("mia");
        t.Send(t.User("ann", managerId: mia.Id), "Big list", Now.AddDays(-1), People(120, Companies));
        using var folder = new TempFolder();
        var output = Path.Combine(folder.Path, "mail");
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Mail(new() { ["Notifications:Transport"] = "None", ["Notifications:OutputFolder"] = output }));
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);

        var files = Directory.GetFiles(output);
        Assert.Equal([".eml", ".html"], files.Select(Path.GetExtension).Order(StringComparer.Ordinal));
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(output));
    }
}
