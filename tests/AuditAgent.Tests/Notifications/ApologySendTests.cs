using AuditAgent.Core.Incidents;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Notifications;

/// <summary>
/// The agent sends the approved apology itself, through the real Graph SDK to the simulator's sendMail: one
/// message per exposed person, each alone in To, paced, once; and no mail the agent sends ever shows one exposed
/// person another.
/// </summary>
public sealed class ApologySendTests
{
    internal const string Mailbox = "apologies@contoso.com";

    internal static Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null) => NotificationTests.Mail(new(more ?? [])
    {
        ["Notifications:Apology:Mailbox"] = Mailbox,
        ["Notifications:Apology:SentItemsWaitSeconds"] = "0",
    });

    /// <summary>An approved apology with a {name} greeting, for incident <paramref name="id"/>.</summary>
    internal static async Task ApproveAsync(IServiceProvider services, long id)
    {
        var actions = services.GetRequiredService<IncidentActions>();
        await actions.SaveApologyAsync(id, "We made a mistake with your email address", "Dear {name},\n\nWe showed your address to others. That was our mistake.\n\nBob Boss", new Actor("ana@contoso.com"), CancellationToken.None);
        await actions.ApproveApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None);
    }

    [Fact]
    public async Task TheApology_GoesToEachPersonAloneOnce_Paced_ClosesTheStep_AndNoMailTheAgentSendsShowsOnePersonAnother()
    {
        // ann (managed by boss) sent one message with 30 outside people visible; the directory gave one of them a name.
        var t = new TenantBuilder();
        var ann = t.User("ann", t.User("boss").Id);
        t.User("apologies");
        t.User("auditagent");
        var people = TenantBuilder.People(30, TenantBuilder.Companies);
        var named = people[0];
        ann.AddSentItem(new SimMessage
        {
            Id = "msg-1", InternetMessageId = "<msg-1@contoso.com>", Subject = "Spring newsletter", SentDateTime = TenantBuilder.Now.AddDays(-1), ReceivedDateTime = TenantBuilder.Now.AddDays(-1),
            From = new SimRecipient(ann.Mail, ann.DisplayName), Sender = new SimRecipient(ann.Mail, ann.DisplayName),
            To = people.Select(p => new SimRecipient(p, p == named ? "Erika Mustermann" : null)).ToList(),
        });
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: Settings(new()
        {
            ["Notifications:EscalateFromSeverity"] = "Medium",
            ["Notifications:AskSender"] = "true",
            ["Web:PublicUrl"] = "https://auditagent.contoso.com",
        }));
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        await agent.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None); // the sender's question and the manager's mail
        await agent.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);
        var actions = agent.Services.GetRequiredService<IncidentActions>();
        await Assert.ThrowsAsync<InvalidTransitionException>(() => actions.SendApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None)); // nothing approved yet
        await ApproveAsync(agent.Services, id);

        var queued = await actions.SendApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None);
        var again = await Assert.ThrowsAsync<InvalidTransitionException>(() => actions.SendApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None));
        var misnamed = await Assert.ThrowsAsync<AuditAgent.Incidents.ActionRefusedException>(() => ActivatorUtilities.CreateInstance<IncidentActions>(agent.Services,
            Microsoft.Extensions.Options.Options.Create(new ApologyOptions { Mailbox = "apologies at contoso" })).SendApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None));
        var edit = await Assert.ThrowsAsync<InvalidTransitionException>(() => actions.SaveApologyAsync(id, "Oops", "Dear {name}, sorry.", new Actor("ana@contoso.com"), CancellationToken.None));
        agent.Simulator.Counters.Reset();
        // Ten messages a second: the same sliding-window limiter as Exchange's 30 a minute, on a scale a test can wait for.
        using var pace = new ApologyPace(10, TimeSpan.FromSeconds(1));
        var sender = ActivatorUtilities.CreateInstance<ApologySender>(agent.Services, pace);
        var first = await sender.SendAsync(CancellationToken.None);
        var second = await sender.SendAsync(CancellationToken.None);
        var detail = await agent.IncidentAsync(id);

        var all = agent.Simulator.Tenant.SentMail;
        var apologies = all.Where(m => m.UserId == "id-apologies").ToList();
        var exposed = people.ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Equal(30, queued);
        Assert.Contains("cannot be sent a second time", again.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be changed", edit.Message, StringComparison.Ordinal);
        Assert.Contains("Notifications:Apology:Mailbox 'apologies at contoso' is not a mail address", misnamed.Message, StringComparison.Ordinal);
        Assert.Equal((30, 0, 0), (first.Sent, first.Failed, first.Recovered));
        Assert.Equal(0, second.Sent);
        Assert.Equal(people.Order(StringComparer.OrdinalIgnoreCase), apologies.Select(m => m.To.Single()).Order(StringComparer.OrdinalIgnoreCase));
        Assert.All(apologies, m => Assert.Equal((1, 0, 0), (m.Mime!.To.Count, m.Mime.Cc.Count, m.Mime.Bcc.Count)));
        Assert.All(apologies, m => Assert.Equal("We made a mistake with your email address", m.Subject));
        Assert.StartsWith("Dear Erika Mustermann,", apologies.Single(m => m.To.Single() == named).Text, StringComparison.Ordinal);
        Assert.Equal(29, apologies.Count(m => m.Text!.StartsWith("Dear Sir or Madam,", StringComparison.Ordinal)));
        Assert.Equal(30, apologies.Select(m => m.Mime!.MessageId).Distinct(StringComparer.Ordinal).Count());
        Assert.All(apologies, m => Assert.DoesNotContain(m.To.Single() == named ? people[1] : named, m.Text!, StringComparison.OrdinalIgnoreCase));
        // Paced: 30 messages at ten a second take at least two windows (less a segment) from first to last; a busy
        // machine only spreads them further. Measured over the whole run, so one slow request cannot decide it.
        var times = apologies.Select(m => m.AcceptedAt).Order().ToList();
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(1.4), $"30 sends in {(times[^1] - times[0]).TotalMilliseconds} ms");
        // One request at a time.
        Assert.Equal(1, agent.Simulator.Counters.MaxMailboxConcurrency);
        // Every message the agent sent to an exposed person (apology, sender question, escalation, digest) has that person alone in it.
        var toExposed = all.Where(m => Recipients(m).Any(exposed.Contains)).ToList();
        Assert.Equal(30, toExposed.Count);
        Assert.All(toExposed, m => Assert.Single(Recipients(m)));
        Assert.True(all.Count > toExposed.Count, "the sender's question, the escalation and the digest went out too");
        Assert.Single(detail.Timeline, t => t.Text == "The apology went to 30 more people: all 30 have had theirs, each alone in one message.");
        Assert.Contains(detail.Timeline, t => t.Text.StartsWith("piet@contoso.com had the agent send the approved apology from apologies@contoso.com: 30 people", StringComparison.Ordinal));
        var step = detail.Steps.Single(s => s.StepKey == MailAnswer.ApologySent.Step());
        Assert.Equal(("done", "AuditAgent"), (step.Status, step.StatusBy));
    }

    [Fact]
    public async Task TheDaysLimit_StopsTheSending_AndTheRestWaits()
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        tenant.AddUser(new SimUser("id-apologies") { DisplayName = "Apologies", Mail = Mailbox, UserPrincipalName = Mailbox });
        await using var agent = await AgentHarness.StartAsync(tenant, settings: Settings(new() { ["Notifications:Apology:RecipientsPerDay"] = "12" }));
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        await ApproveAsync(agent.Services, id);
        await agent.Services.GetRequiredService<IncidentActions>().SendApologyAsync(id, new Actor("piet@contoso.com"), CancellationToken.None);
        var sender = agent.Services.GetRequiredService<ApologySender>();

        var first = await sender.SendAsync(CancellationToken.None);
        var again = await sender.SendAsync(CancellationToken.None); // the same day: nothing more

        var sending = await agent.Store.ApologySendingAsync(id, CancellationToken.None);
        Assert.Equal((12, true), (first.Sent, first.DailyLimitReached));
        Assert.Equal((0, true), (again.Sent, again.DailyLimitReached));
        Assert.Equal((30, 12), (sending!.Total, sending.Sent));
        Assert.Equal(12, agent.Simulator.Tenant.SentMail.Count(m => m.UserId == "id-apologies"));
        Assert.Contains((await agent.IncidentAsync(id)).Timeline, t => t.Text == "The apology went to 12 more people (12 of 30 so far), each alone in one message.");
        Assert.Equal("todo", (await agent.IncidentAsync(id)).Steps.Single(s => s.StepKey == MailAnswer.ApologySent.Step()).Status);
    }

    private static IEnumerable<string> Recipients(SimSentMail m) =>
        m.Mime is { } mime ? mime.To.Mailboxes.Concat(mime.Cc.Mailboxes).Concat(mime.Bcc.Mailboxes).Select(a => a.Address) : m.To;
}
