using System.Globalization;

namespace AuditAgent.Simulator;

public sealed record GeneratorSettings
{
    public int Mailboxes { get; init; } = 60;

    public int MessagesPerMailbox { get; init; } = 40;

    public int Seed { get; init; } = 42;

    /// <summary>The newest message is sent shortly before this moment.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Messages are spread over this many days before <see cref="Now"/>.</summary>
    public int HistoryDays { get; init; } = 45;

    /// <summary>The detection threshold the tenant is built around: ordinary mail stays below it.</summary>
    public int ExposureThreshold { get; init; } = 10;
}

/// <summary>A message the generator built to be an exposure: the ground truth that tests compare with.</summary>
public sealed record ExpectedExposure(
    string MailboxId,
    string MailboxAddress,
    string GraphMessageId,
    string InternetMessageId,
    DateTimeOffset SentDateTime,
    int VisibleExternalCount,
    int ExternalDomainCount,
    bool MailboxScanned)
{
    /// <summary>Who the message is from: the mailbox's owner, or another mailbox it sends as.</summary>
    public string SenderAddress { get; init; } = MailboxAddress;

    public bool SentSince(DateTimeOffset since) => SentDateTime >= since;
}

public sealed record GeneratedTenant(SimTenant Tenant, IReadOnlyList<ExpectedExposure> Exposures, GeneratorSettings Settings)
{
    /// <summary>The users the directory lists with a mail address: the mailboxes a scan cycle covers (sign-in blocked or not).</summary>
    public IReadOnlyList<SimUser> Mailboxes => Tenant.Users.Where(u => u.Mail is not null).ToList();

    /// <summary>The mailboxes whose Sent Items are read: those with an Exchange Online mailbox (a room too, unless the agent may read its purpose).</summary>
    public IReadOnlyList<SimUser> ReadableMailboxes => Tenant.Users.Where(u => u.Mail is not null && u.HasMailbox).ToList();

    /// <summary>The exposures an agent scanning every mailbox with a look-back of <paramref name="lookbackDays"/> must find.</summary>
    public IReadOnlyList<ExpectedExposure> ExpectedFindings(int lookbackDays) =>
        Exposures.Where(e => e.MailboxScanned && e.SentSince(Settings.Now.AddDays(-lookbackDays))).ToList();
}

/// <summary>
/// Builds a deterministic tenant with a realistic mix of mail: internal mail, small external threads,
/// partner mail, newsletters in Bcc, internal announcements, near misses, odd recipients and a known
/// set of exposures. Everything follows from the seed, so the same settings give the same tenant,
/// and each mailbox's Sent Items can be regenerated on demand instead of held in memory.
/// </summary>
public static class TenantGenerator
{
    public const string PrimaryDomain = "contoso.com";

    public static GeneratedTenant Generate(GeneratorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Mailboxes < 1 || settings.MessagesPerMailbox < 1)
        {
            throw new ArgumentException("A generated tenant needs at least one mailbox and one message per mailbox.", nameof(settings));
        }

        var tenant = new SimTenant(
            TenantIdFor(settings.Seed),
            [
                new SimDomain(PrimaryDomain, IsVerified: true, IsDefault: true),
                new SimDomain("contoso.co.uk"),
                new SimDomain("contoso.onmicrosoft.com", IsInitial: true),
                new SimDomain("contoso-legacy.com", IsVerified: false),
            ]);

        var rng = new Random(settings.Seed);
        var people = Enumerable.Range(0, settings.Mailboxes).Select(i => PersonFor(settings.Seed, i)).ToList();
        var managers = Math.Max(1, settings.Mailboxes / 10);
        var plan = PlanExposures(settings, rng, people);

        for (var i = 0; i < settings.Mailboxes; i++)
        {
            var index = i;
            var person = people[i];
            var planned = plan.Where(p => p.UserIndex == index).ToDictionary(p => p.MessageIndex);
            tenant.AddUser(new SimUser(person.Id, generate: () => MailboxItems(settings, people, index, planned))
            {
                DisplayName = person.DisplayName,
                Mail = person.HasMail ? person.Address : null,
                UserPrincipalName = person.Upn,
                AccountEnabled = person.Enabled,
                JobTitle = i < managers ? "Manager" : "Account executive",
                ManagerId = i == 0 ? null : people[i < managers ? 0 : i % managers].Id,
            });
        }

        var stories = settings.Mailboxes >= 12 ? AddStories(settings, tenant, people) : [];
        var exposures = plan
            .Select(p => new ExpectedExposure(
                people[p.UserIndex].Id,
                people[p.UserIndex].Address,
                MessageId(settings.Seed, p.UserIndex, p.MessageIndex),
                InternetMessageId(settings.Seed, p.UserIndex, p.MessageIndex),
                SentAt(settings, p.UserIndex, p.MessageIndex),
                p.Visible,
                p.Recipients.Select(r => r.Domain).Distinct().Count(),
                people[p.UserIndex].HasMail))
            .Concat(stories)
            .ToList();
        return new GeneratedTenant(tenant, exposures, settings);
    }

    /// <summary>
    /// The stories security teams meet in real life, so the demo shows every incident rule: a blast
    /// sent in three batches and its apology sent to the same list in To; a message in a delegate's and
    /// a shared mailbox's Sent Items, followed by a proper follow-up in Bcc; mail to colleagues at one
    /// partner organisation; a sender with two incidents.
    /// </summary>
    private static List<ExpectedExposure> AddStories(GeneratorSettings s, SimTenant tenant, List<Person> people)
    {
        var rng = new Random(s.Seed ^ 0x5eed);
        var expected = new List<ExpectedExposure>();
        var n = 0;
        string Story(int user, string subject, DateTimeOffset at, IEnumerable<External> to, IEnumerable<External>? bcc = null, string? internetMessageId = null, int? from = null, int? by = null, string? conversation = null) =>
            Sent(tenant.Users[user], Who(people[from ?? user]), Who(people[by ?? user]), subject, at, to, bcc, internetMessageId, conversation);

        static SimRecipient Who(Person p) => new(p.Address, p.DisplayName);

        // A message in a mailbox's Sent Items: from the address it went out as, sent by the person (they differ for send on behalf).
        string Sent(SimUser mailbox, SimRecipient from, SimRecipient sender, string subject, DateTimeOffset at, IEnumerable<External> to, IEnumerable<External>? bcc = null, string? internetMessageId = null, string? conversation = null)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"AAMkADstory{(uint)s.Seed:x8}{++n:x4}AAA=");
            var visible = to.ToList();
            var imid = internetMessageId ?? $"<STORY{(uint)s.Seed:X8}{n:X4}@AM0PR01MB1234.eurprd01.prod.outlook.com>";
            mailbox.AddSentItem(new SimMessage
            {
                Id = id,
                InternetMessageId = imid,
                ConversationId = conversation ?? "AAQkADstory" + n.ToString(CultureInfo.InvariantCulture),
                Subject = subject,
                SentDateTime = at,
                ReceivedDateTime = at,
                From = from,
                Sender = sender,
                To = visible.Count == 0 ? [from] : visible.Select(e => new SimRecipient(e.Address, e.Name)).ToList(),
                Bcc = (bcc ?? []).Select(e => new SimRecipient(e.Address, e.Name)).ToList(),
            });
            if (visible.Count >= s.ExposureThreshold)
            {
                expected.Add(new ExpectedExposure(mailbox.Id, mailbox.Mail!, id, imid, at, visible.Count,
                    visible.Select(e => e.Domain).Distinct().Count(), MailboxScanned: true) { SenderAddress = sender.Address! });
            }

            return imid;
        }

        var customers = PickExternals(rng, 45, 7001);
        var blastAt = s.Now.AddDays(-12);
        Story(3, "Spring price list 2027", blastAt, customers[..15]);
        Story(3, "Spring price list 2027", blastAt.AddHours(1), customers[15..30]);
        Story(3, "Spring price list 2027", blastAt.AddHours(3), customers[30..]);
        Story(3, "Apologies for our previous email", s.Now.AddDays(-10), customers);

        var invited = PickExternals(rng, 28, 7101);
        var shared = Story(5, "Customer day invitation", s.Now.AddDays(-8), invited, from: 6);
        Story(6, "Customer day invitation", s.Now.AddDays(-8), invited, internetMessageId: shared, from: 6, by: 5);
        Story(5, "Update on the customer day", s.Now.AddDays(-7), [], bcc: invited, from: 6);

        var partner = Enumerable.Range(0, 16)
            .Select(i => (Name: FirstNames[i % FirstNames.Length], Domain: i % 2 == 0 ? "fabrikam.com" : "eu.fabrikam.com"))
            .Select(p => new External($"{p.Name}@{p.Domain}".ToLowerInvariant(), p.Name, p.Domain))
            .ToList();
        Story(7, "Fabrikam rollout plan", s.Now.AddDays(-6), partner);

        Story(8, "Quarterly newsletter", s.Now.AddDays(-25), PickExternals(rng, 12, 7201));
        Story(8, "Survey: tell us what you think", s.Now.AddDays(-4), PickExternals(rng, 14, 7301));

        // A shared mailbox (sign-in blocked) sends the newsletter, on behalf of the person who wrote it.
        var newsletter = Extra(tenant, s, 1, "Contoso Newsletter", "newsletter", enabled: false, purpose: "shared", department: "Marketing");
        Sent(newsletter, new SimRecipient(newsletter.Mail, newsletter.DisplayName), Who(people[4]), "Contoso news: November", s.Now.AddDays(-5), PickExternals(rng, 30, 7401));

        // A room's mailbox answers meeting requests; it is not read (mailboxSettings.userPurpose room) when the agent may ask.
        var room = Extra(tenant, s, 2, "Boardroom 1", "boardroom1", enabled: false, purpose: "room", department: null);
        Sent(room, new SimRecipient(room.Mail, room.DisplayName), new SimRecipient(room.Mail, room.DisplayName), "Accepted: Partner workshop", s.Now.AddDays(-3), PickExternals(rng, 3, 7501));

        // A licence-less kiosk account: a mail address, but no Exchange Online mailbox (Graph answers 404).
        var kiosk = Extra(tenant, s, 3, "Reception kiosk", "kiosk", enabled: true, purpose: "user", department: "Facilities");
        kiosk.HasMailbox = false;

        // A clinic's patient list: who is on it reveals their health (GDPR Art. 9).
        Story(9, "Invitation: HIV peer support group, 14 March", s.Now.AddDays(-2), PickExternals(rng, 14, 7601));

        // Parents of a class in To; two of them reply to all from outside, one only to the sender, and a colleague
        // replies to all from their own mailbox: the list goes round again three times.
        var parents = PickExternals(rng, 22, 7701).Select(e => e with { Name = "Parent of " + e.Name.Split(' ')[0] }).ToList();
        const string Thread = "AAQkADcascade4b";
        var teacher = people[10];
        Story(10, "Class 4B trip on Friday", s.Now.AddDays(-3), parents, conversation: Thread);
        Story(11, "RE: Class 4B trip on Friday", s.Now.AddDays(-3).AddHours(2), parents, conversation: Thread);
        for (var k = 0; k < 3; k++)
        {
            var replier = parents[k];
            var everyone = parents.Where(p => p != replier).Select(p => new SimRecipient(p.Address, p.Name)).ToList();
            tenant.Users[10].AddInboxItem(new SimMessage
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"AAMkADinbox{(uint)s.Seed:x8}{k:x4}AAA="),
                InternetMessageId = $"<REPLY{k}@{replier.Domain}>",
                ConversationId = Thread,
                Subject = "RE: Class 4B trip on Friday",
                SentDateTime = s.Now.AddDays(-3).AddHours(3 + k),
                ReceivedDateTime = s.Now.AddDays(-3).AddHours(3 + k),
                From = new SimRecipient(replier.Address, replier.Name),
                Sender = new SimRecipient(replier.Address, replier.Name),
                // The last one is a plain reply to the teacher: not a cascade.
                To = [new SimRecipient(teacher.Address, teacher.DisplayName)],
                Cc = k < 2 ? everyone : [],
            });
        }

        return expected;
    }

    /// <summary>A mailbox beside the generated people (their indices, and so every other story, stay as they were).</summary>
    private static SimUser Extra(SimTenant tenant, GeneratorSettings s, int n, string name, string local, bool enabled, string purpose, string? department)
    {
        var user = new SimUser(new Guid((uint)s.Seed, 0xffff, (ushort)n, 0x5a, 0x4e, 0x3c, 0x2b, 0x1a, 0x09, 0x08, 0x07).ToString())
        {
            DisplayName = name,
            Mail = $"{local}@{PrimaryDomain}",
            UserPrincipalName = $"{local}@{PrimaryDomain}",
            AccountEnabled = enabled,
            UserPurpose = purpose,
            Department = department,
        };
        tenant.AddUser(user);
        return user;
    }

    /// <summary>Builds one exposure in the style of the generator (for tests that add mail after a scan).</summary>
    public static SimMessage Exposure(SimUser sender, string messageId, DateTimeOffset sentAt, int visible, int seed, string subject = "Invitation: customer day")
    {
        ArgumentNullException.ThrowIfNull(sender);
        var rng = new Random(seed);
        var recipients = PickExternals(rng, visible, seed);
        var self = new SimRecipient(sender.Mail, sender.DisplayName);
        return new SimMessage
        {
            Id = messageId,
            InternetMessageId = $"<{messageId}@sim.contoso.com>",
            ConversationId = "AAQk" + messageId,
            Subject = subject,
            SentDateTime = sentAt,
            ReceivedDateTime = sentAt,
            From = self,
            Sender = self,
            To = recipients.Select(r => new SimRecipient(r.Address, r.Name)).ToList(),
        };
    }

    internal static string TenantIdFor(int seed) => $"{(uint)seed:x8}-5151-4a11-9e7e-7e0a0d1e57a7";

    private static string MessageId(int seed, int user, int message) =>
        string.Create(CultureInfo.InvariantCulture, $"AAMkADsim{(uint)seed:x8}{user:x6}{message:x6}AAA=");

    private static string InternetMessageId(int seed, int user, int message) =>
        string.Create(CultureInfo.InvariantCulture, $"<SIM{(uint)seed:X8}{user:X6}{message:X6}@AM0PR01MB1234.eurprd01.prod.outlook.com>");

    private static DateTimeOffset SentAt(GeneratorSettings s, int user, int message)
    {
        // Chronological within a mailbox; a per-mailbox offset keeps mailboxes from sending in lock-step.
        var span = TimeSpan.FromDays(s.HistoryDays);
        var step = span / s.MessagesPerMailbox;
        var jitter = TimeSpan.FromMinutes(1 + ((user * 37) % Math.Max(1, (int)step.TotalMinutes / 2)));
        return s.Now - span + (step * (message + 1)) - jitter;
    }

    private sealed record Person(string Id, string DisplayName, string Address, string Upn, bool Enabled, bool HasMail);

    private sealed record External(string Address, string Name, string Domain);

    private sealed record PlannedExposure(int UserIndex, int MessageIndex, int Visible, IReadOnlyList<External> Recipients);

    private static Person PersonFor(int seed, int i)
    {
        var first = FirstNames[((i * 7) + (seed & int.MaxValue)) % FirstNames.Length];
        var last = LastNames[((i * 5) + (i / LastNames.Length) + ((seed / 3) & int.MaxValue)) % LastNames.Length];
        var local = $"{first}.{last}{i}".ToLowerInvariant();
        var id = new Guid((uint)seed, (ushort)(i >> 16), (ushort)i, 0x8a, 0x1b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81).ToString();
        // A leaver's mailbox (sign-in blocked, still scanned) and an account without a mail address (not a mailbox).
        var enabled = i != 1;
        var hasMail = i != 2;
        return new Person(id, $"{first} {last}", $"{local}@{PrimaryDomain}", hasMail ? $"{local}@{PrimaryDomain}" : $"svc-{i}@contoso.onmicrosoft.com", enabled, hasMail);
    }

    private static List<PlannedExposure> PlanExposures(GeneratorSettings s, Random rng, List<Person> people)
    {
        var count = Math.Max(4, s.Mailboxes / 4);
        var taken = new HashSet<(int, int)>();
        var plan = new List<PlannedExposure>();
        for (var k = 0; k < count && taken.Count < s.Mailboxes * s.MessagesPerMailbox; k++)
        {
            // The leaver's mailbox gets one on purpose: a blocked sign-in does not undo a disclosure.
            var user = k == 0 && people.Count > 1 ? 1 : rng.Next(people.Count);
            if (!people[user].HasMail)
            {
                user = 0;
            }

            var message = rng.Next(s.MessagesPerMailbox);
            if (!taken.Add((user, message)))
            {
                continue;
            }

            var roll = rng.NextDouble();
            var visible = k == 1 ? s.ExposureThreshold
                : roll < 0.6 ? s.ExposureThreshold + rng.Next(15)
                : roll < 0.9 ? 25 + rng.Next(40)
                : 100 + rng.Next(60);
            plan.Add(new PlannedExposure(user, message, visible, PickExternals(rng, visible, s.Seed + k)));
        }

        return plan;
    }

    private static List<External> PickExternals(Random rng, int count, int salt)
    {
        var result = new List<External>(count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var n = 0;
        while (result.Count < count)
        {
            var consumer = rng.NextDouble() < 0.3;
            var domain = consumer ? ConsumerDomains[rng.Next(ConsumerDomains.Length)] : CompanyDomains[rng.Next(CompanyDomains.Length)];
            var first = FirstNames[rng.Next(FirstNames.Length)];
            var last = LastNames[rng.Next(LastNames.Length)];
            var address = $"{first}.{last}{(salt + n++) % 9973}@{domain}".ToLowerInvariant();
            if (seen.Add(address))
            {
                result.Add(new External(address, $"{first} {last}", domain));
            }
        }

        return result;
    }

    private static List<SimMessage> MailboxItems(GeneratorSettings s, List<Person> people, int userIndex, Dictionary<int, PlannedExposure> planned)
    {
        var rng = new Random(unchecked((s.Seed * 1_000_003) + userIndex));
        var me = people[userIndex];
        var self = new SimRecipient(me.Address, me.DisplayName);
        var below = Math.Max(0, s.ExposureThreshold - 1);
        var items = new List<SimMessage>(s.MessagesPerMailbox);
        for (var j = 0; j < s.MessagesPerMailbox; j++)
        {
            var to = new List<SimRecipient>();
            var cc = new List<SimRecipient>();
            var bcc = new List<SimRecipient>();
            string subject;
            if (planned.TryGetValue(j, out var exposure))
            {
                subject = ExposureSubjects[rng.Next(ExposureSubjects.Length)];
                foreach (var r in exposure.Recipients)
                {
                    (rng.NextDouble() < 0.75 ? to : cc).Add(new SimRecipient(r.Address, r.Name));
                }

                // Noise that must not change the count: a duplicate in other case, the sender, colleagues, Bcc.
                cc.Add(new SimRecipient(exposure.Recipients[0].Address.ToUpperInvariant(), exposure.Recipients[0].Name));
                if (rng.NextDouble() < 0.5)
                {
                    to.Add(self);
                }

                cc.Add(Colleague(rng, people, userIndex));
                bcc.AddRange(PickExternals(rng, rng.Next(4), j).Select(e => new SimRecipient(e.Address, e.Name)));
            }
            else
            {
                var kind = rng.NextDouble();
                if (kind < 0.40)
                {
                    subject = InternalSubjects[rng.Next(InternalSubjects.Length)];
                    for (var k = rng.Next(1, 6); k > 0; k--)
                    {
                        to.Add(Colleague(rng, people, userIndex));
                    }
                }
                else if (kind < 0.65)
                {
                    subject = "RE: " + ThreadSubjects[rng.Next(ThreadSubjects.Length)];
                    to.AddRange(PickExternals(rng, Math.Min(below, rng.Next(1, 4)), j).Select(e => new SimRecipient(e.Address, e.Name)));
                    cc.Add(Colleague(rng, people, userIndex));
                }
                else if (kind < 0.75)
                {
                    subject = "Partner sync: " + ThreadSubjects[rng.Next(ThreadSubjects.Length)];
                    var domain = CompanyDomains[rng.Next(CompanyDomains.Length)];
                    for (var k = Math.Min(below, rng.Next(3, 9)); k > 0; k--)
                    {
                        var first = FirstNames[rng.Next(FirstNames.Length)];
                        (k % 3 == 0 ? cc : to).Add(new SimRecipient($"{first}.{k}@{domain}".ToLowerInvariant(), first));
                    }
                }
                else if (kind < 0.83)
                {
                    subject = "Newsletter: " + ExposureSubjects[rng.Next(ExposureSubjects.Length)];
                    to.Add(self);
                    bcc.AddRange(PickExternals(rng, rng.Next(15, 80), j).Select(e => new SimRecipient(e.Address, e.Name)));
                }
                else if (kind < 0.90)
                {
                    subject = "All hands: " + InternalSubjects[rng.Next(InternalSubjects.Length)];
                    for (var k = rng.Next(20, 60); k > 0; k--)
                    {
                        to.Add(Colleague(rng, people, userIndex));
                    }

                    to.Add(new SimRecipient("team.leads@eu.contoso.com", "EU team leads"));
                    to.Add(new SimRecipient("uk.office@contoso.co.uk", "UK office"));
                }
                else if (kind < 0.95)
                {
                    // A near miss: one short of the threshold once duplicates, the sender and colleagues are discounted.
                    subject = "Follow-up: " + ThreadSubjects[rng.Next(ThreadSubjects.Length)];
                    var externals = PickExternals(rng, below, j + 7);
                    to.AddRange(externals.Select(e => new SimRecipient(e.Address, e.Name)));
                    if (externals.Count > 0)
                    {
                        cc.Add(new SimRecipient("  " + externals[0].Address.ToUpperInvariant() + " ", externals[0].Name));
                    }

                    cc.Add(self);
                    cc.Add(new SimRecipient("sales@eu.contoso.com", "Sales EU"));
                    bcc.AddRange(PickExternals(rng, 12, j + 11).Select(e => new SimRecipient(e.Address, e.Name)));
                }
                else
                {
                    // Odd recipients Graph really returns: no address, empty, a group name, a legacy Exchange DN, an IDN domain.
                    subject = "Quick question";
                    to.Add(new SimRecipient(null, "Sales team"));
                    to.Add(new SimRecipient("", "Empty"));
                    cc.Add(new SimRecipient("undisclosed-recipients", "Undisclosed recipients"));
                    cc.Add(new SimRecipient("/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc123", "Old contact"));
                    to.Add(new SimRecipient("jürgen.müller@bücher-beispiel.de", "Jürgen Müller"));
                }
            }

            var sentAt = SentAt(s, userIndex, j);
            items.Add(new SimMessage
            {
                Id = MessageId(s.Seed, userIndex, j),
                InternetMessageId = InternetMessageId(s.Seed, userIndex, j),
                ConversationId = string.Create(CultureInfo.InvariantCulture, $"AAQkADsim{(uint)s.Seed:x8}{userIndex:x6}{j / 3:x6}="),
                Subject = subject,
                SentDateTime = sentAt,
                ReceivedDateTime = sentAt,
                From = self,
                Sender = self,
                To = to,
                Cc = cc,
                Bcc = bcc,
                HasAttachments = rng.NextDouble() < 0.2,
            });
        }

        return items;
    }

    private static SimRecipient Colleague(Random rng, List<Person> people, int me)
    {
        var other = people[rng.Next(people.Count)];
        if (people.Count > 1 && other.Address == people[me].Address)
        {
            other = people[(me + 1) % people.Count];
        }

        return new SimRecipient(other.Address, other.DisplayName);
    }

    private static readonly string[] FirstNames =
    [
        "Ava", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jack", "Katie", "Liam", "Mia",
        "Noah", "Olivia", "Paul", "Quinn", "Ruby", "Sam", "Tara", "Umar", "Vera", "Will", "Xena", "Yusuf", "Zoe",
        "Amelie", "Bjorn", "Carmen", "Dmitri", "Elif", "Farid",
    ];

    private static readonly string[] LastNames =
    [
        "Adams", "Brown", "Clarke", "Davies", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan", "Lopez",
        "Martin", "Nowak", "Okafor", "Patel", "Quinn", "Rossi", "Smith", "Taylor", "Ueda", "Virtanen", "Walsh",
        "Xu", "Young", "Zimmer",
    ];

    private static readonly string[] CompanyDomains =
    [
        "fabrikam.com", "adatum.com", "northwindtraders.com", "tailspintoys.com", "wingtiptoys.com", "litwareinc.com",
        "proseware.com", "woodgrovebank.com", "alpineskihouse.com", "margiestravel.com", "treyresearch.net",
        "lucernepublishing.com", "coho-vineyard.com", "fourthcoffee.com", "blueyonderairlines.com", "relecloud.com",
        "wideworldimporters.com", "humongousinsurance.com", "bücher-beispiel.de", "eu.fabrikam.com",
    ];

    private static readonly string[] ConsumerDomains =
    [
        "gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.com", "icloud.com", "gmx.de", "web.de", "proton.me",
    ];

    private static readonly string[] ExposureSubjects =
    [
        "Invitation: customer day on 12 March", "Important update about your account", "Price changes from 1 January",
        "Webinar: what's new this spring", "Your feedback on our service", "Reminder: renewal due",
        "Apologies for the delivery delay", "Event photos and next steps",
    ];

    private static readonly string[] InternalSubjects =
    [
        "Q3 numbers", "Team lunch", "Pipeline review", "Holiday rota", "Draft proposal", "Office move", "Training plan",
    ];

    private static readonly string[] ThreadSubjects =
    [
        "Contract renewal", "Order 4711", "Meeting notes", "Support ticket 2231", "Quote for phase 2", "Invoice query",
    ];
}
