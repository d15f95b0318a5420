using AuditAgent.Simulator;

namespace AuditAgent.Tests.Support;

/// <summary>A small hand-written tenant for scenario tests: contoso.com and a few users who send mail.</summary>
public sealed class TenantBuilder
{
    private int _messages;

    public SimTenant Tenant { get; } = new("00000000-0000-0000-0000-00000000c0de", [new SimDomain("contoso.com", IsDefault: true)]);

    public static DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public SimUser User(string name, string? managerId = null)
    {
        var user = new SimUser($"id-{name}")
        {
            DisplayName = char.ToUpperInvariant(name[0]) + name[1..],
            Mail = $"{name}@contoso.com",
            UserPrincipalName = $"{name}@contoso.com",
            ManagerId = managerId,
        };
        Tenant.AddUser(user);
        return user;
    }

    /// <summary>A mailbox that is not a person's: sign-in blocked, mailboxSettings.userPurpose <paramref name="purpose"/> (shared, room, equipment).</summary>
    public SimUser SignInBlocked(string name, string purpose = "shared")
    {
        var user = new SimUser($"id-{name}")
        {
            DisplayName = char.ToUpperInvariant(name[0]) + name[1..],
            Mail = $"{name}@contoso.com",
            UserPrincipalName = $"{name}@contoso.com",
            AccountEnabled = false,
            UserPurpose = purpose,
        };
        Tenant.AddUser(user);
        return user;
    }

    /// <summary>Puts a sent message into <paramref name="mailbox"/>'s Sent Items and returns its Graph id.</summary>
    public string Send(
        SimUser mailbox,
        string subject,
        DateTimeOffset sentAt,
        IEnumerable<string> to,
        IEnumerable<string>? cc = null,
        IEnumerable<string>? bcc = null,
        string? internetMessageId = null,
        SimUser? from = null)
    {
        var id = $"msg-{++_messages}";
        var sender = from ?? mailbox;
        mailbox.AddSentItem(new SimMessage
        {
            Id = id,
            InternetMessageId = internetMessageId ?? $"<{id}@contoso.com>",
            ConversationId = "conv-" + id,
            Subject = subject,
            SentDateTime = sentAt,
            ReceivedDateTime = sentAt,
            From = new SimRecipient(sender.Mail, sender.DisplayName),
            Sender = new SimRecipient(mailbox.Mail, mailbox.DisplayName),
            To = to.Select(a => new SimRecipient(a, null)).ToList(),
            Cc = (cc ?? []).Select(a => new SimRecipient(a, null)).ToList(),
            Bcc = (bcc ?? []).Select(a => new SimRecipient(a, null)).ToList(),
        });
        return id;
    }

    private static int _people;

    /// <summary>
    /// <paramref name="count"/> addresses spread over <paramref name="domains"/> in turn, never handed out
    /// before: two calls never share a person (reuse the list to send to the same people again).
    /// </summary>
    public static List<string> People(int count, params string[] domains) =>
        Enumerable.Range(0, count).Select(i => $"person{Interlocked.Increment(ref _people)}@{domains[i % domains.Length]}").ToList();

    /// <summary>
    /// The smallest tenant with one incident: ann (managed by boss) sent <paramref name="subject"/> a day ago
    /// with 30 people of five outside companies visible; a scan opens one medium incident.
    /// </summary>
    public static (SimTenant Tenant, List<string> People) OneExposure(string subject = "Spring newsletter")
    {
        var t = new TenantBuilder();
        var boss = t.User("boss");
        var people = People(30, Companies);
        t.Send(t.User("ann", boss.Id), subject, Now.AddDays(-1), people);
        return (t.Tenant, people);
    }

    public static readonly string[] Companies = ["fabrikam.com", "adatum.com", "litwareinc.com", "proseware.com", "tailspintoys.com"];
}
