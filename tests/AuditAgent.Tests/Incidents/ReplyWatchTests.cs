using System.Text.Json.Nodes;
using AuditAgent.Incidents;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Incidents;

/// <summary>Replies to all found in the sender's mailbox, through the real SDK against the simulator's conversation queries.</summary>
public sealed class ReplyWatchTests
{
    private static SimMessage Reply(string id, string conversation, string from, string to, IEnumerable<string> cc, DateTimeOffset at) => new()
    {
        Id = id,
        InternetMessageId = $"<{id}@outside.example>",
        ConversationId = conversation,
        Subject = "RE: Spring newsletter",
        SentDateTime = at,
        ReceivedDateTime = at,
        From = new SimRecipient(from, null),
        Sender = new SimRecipient(from, null),
        To = [new SimRecipient(to, null)],
        Cc = [.. cc.Select(a => new SimRecipient(a, null))],
    };

    [Fact]
    public async Task RepliesToAll_CountedFromHalfTheList_PlainRepliesAndColleaguesNot_EachOnce()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var people = TenantBuilder.People(20, TenantBuilder.Companies);
        var id = t.Send(ann, "Spring newsletter", TenantBuilder.Now.AddDays(-1), people);
        var conversation = "conv-" + id;
        var at = TenantBuilder.Now.AddHours(-20);
        ann.AddInboxItem(Reply("r1", conversation, people[0], ann.Mail!, people.Skip(1), at)); // all 19 others: a reply to all
        ann.AddInboxItem(Reply("r2", conversation, people[1], ann.Mail!, people.Skip(2).Take(9), at.AddMinutes(1))); // 9 of 19 others: under half
        ann.AddInboxItem(Reply("r3", conversation, people[2], ann.Mail!, people.Skip(3).Take(10), at.AddMinutes(2))); // 10 of 19: half or more
        ann.AddInboxItem(Reply("r4", conversation, people[3], ann.Mail!, [], at.AddMinutes(3))); // to the sender alone
        ann.AddInboxItem(Reply("r5", conversation, "carl@contoso.com", ann.Mail!, people, at.AddMinutes(4))); // a colleague: their own Sent Items tell
        ann.AddInboxItem(Reply("r6", "another-thread", people[4], ann.Mail!, people.Skip(5), at.AddMinutes(5))); // another conversation
        await using var agent = await AgentHarness.StartAsync(t.Tenant);

        var first = await agent.ScanPipelineAsync();

        Assert.Equal(2, first.Incidents.RepliesToAll);
        var incident = Assert.Single(await agent.IncidentsAsync());
        var detail = await agent.IncidentAsync(incident.Id);
        Assert.Equal(2, detail.Incident.ReplyAllCount);
        Assert.Equal(
            ["A recipient at fabrikam.com replied to all", "A recipient at litwareinc.com replied to all"],
            detail.Timeline.Where(e => e.Kind == "reply-all").Select(e => e.Text[..e.Text.IndexOf(" replied to all", StringComparison.Ordinal)] + " replied to all"));
        Assert.DoesNotContain(detail.Timeline, e => e.Text.Contains(people[0], StringComparison.Ordinal)); // the replier by domain only
        Assert.Equal(1, agent.Simulator.Counters.Operations("conversation"));

        var again = await agent.ScanPipelineAsync();

        Assert.Equal(0, again.Incidents.RepliesToAll);
        Assert.Equal(2, (await agent.IncidentAsync(incident.Id)).Incident.ReplyAllCount);
    }

    /// <summary>
    /// Mail sent on behalf of a shared mailbox has a copy in both mailboxes; replies come back to the person. The
    /// person's own copy is watched even when the directory spells their address in capitals and the shared
    /// mailbox's copy was stored first (one mailbox at a time, the shared one listed first).
    /// </summary>
    [Fact]
    public async Task Watch_ReadsTheSendersOwnMailbox_WhicheverCopyWasStoredFirst()
    {
        var t = new TenantBuilder();
        var events = t.SignInBlocked("events"); // listed, and so scanned, first
        var zoe = new SimUser("id-zoe") { DisplayName = "Zoe", Mail = "Zoe@Contoso.com", UserPrincipalName = "zoe@contoso.com" };
        t.Tenant.AddUser(zoe);
        var people = TenantBuilder.People(20, TenantBuilder.Companies);
        var at = TenantBuilder.Now.AddDays(-1);
        foreach (var (mailbox, id) in new[] { (events, "e1"), (zoe, "z1") })
        {
            mailbox.AddSentItem(new SimMessage
            {
                Id = id, InternetMessageId = "<same@contoso.com>", ConversationId = "thread", Subject = "Open day", SentDateTime = at, ReceivedDateTime = at,
                From = new SimRecipient(events.Mail, "Events"), Sender = new SimRecipient(zoe.Mail, "Zoe"),
                To = [.. people.Select(a => new SimRecipient(a, null))],
            });
        }

        zoe.AddInboxItem(Reply("r1", "thread", people[0], zoe.Mail!, people.Skip(1), at.AddHours(1)));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: new Dictionary<string, string?> { ["Scan:MaxParallelMailboxes"] = "1" });

        var run = await agent.ScanPipelineAsync();
        var copies = (await agent.FindingsAsync()).OrderBy(f => f.Id).Select(f => (f.MailboxId, f.Role)).ToList();
        Assert.Equal([(events.Id, "copy"), (zoe.Id, "blast")], copies); // the shared mailbox's copy was stored first

        Assert.Equal(1, run.Incidents.RepliesToAll);
        Assert.Equal(1, agent.Simulator.Counters.MailboxOperations("conversation", zoe.Id));
    }

    [Fact]
    public async Task Watch_IsOneRequestPerTwentyOpenIncidents_AndStopsAfterReplyWatchDays()
    {
        var t = new TenantBuilder();
        for (var i = 0; i < 25; i++)
        {
            t.Send(t.User($"user{i}"), $"Newsletter {i}", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(12, TenantBuilder.Companies));
        }

        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        var watch = agent.Services.GetRequiredService<ReplyWatch>();
        agent.Simulator.Counters.Reset();

        var summary = await watch.RunAsync(default);

        Assert.Equal((25, 2, 0), (summary.Incidents, summary.Requests, summary.NewReplies));
        Assert.Equal(2, agent.Simulator.Counters.HttpRequests); // two $batch requests, 20 and 5 conversations
        Assert.Equal(25, agent.Simulator.Counters.Operations("conversation"));

        await using var quiet = await AgentHarness.StartAsync(t.Tenant, settings: new Dictionary<string, string?> { ["Incidents:ReplyWatchDays"] = "0" });
        await quiet.ScanAndProcessAsync();
        Assert.Equal(0, quiet.Simulator.Counters.Operations("conversation"));
    }

    [Fact]
    public void TenantFile_CarriesInboxItemsDepartmentsAndUsersWithoutAMailbox()
    {
        var tenant = TenantFile.Parse(JsonNode.Parse("""
            {"domains": [{"id": "contoso.com"}],
             "users": [
               {"id": "u1", "mail": "events@contoso.com", "accountEnabled": false, "department": "Marketing", "mailboxSettings": {"userPurpose": "shared"},
                "inboxItems": [{"id": "in-1", "conversationId": "c1", "receivedDateTime": "2026-11-01T10:00:00Z", "from": {"emailAddress": {"address": "a@fabrikam.com"}}}]},
               {"id": "u2", "mail": "kiosk@contoso.com", "hasMailbox": false}
             ]}
            """)!.AsObject());

        var events = tenant.FindUser("u1")!;
        Assert.Equal(("Marketing", "shared", false), (events.Department, events.UserPurpose, events.AccountEnabled));
        Assert.Equal("c1", Assert.Single(events.InboxItems).ConversationOf);
        Assert.False(tenant.FindUser("u2")!.HasMailbox);
    }
}
