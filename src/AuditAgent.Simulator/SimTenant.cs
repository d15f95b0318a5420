using System.Text.Json.Nodes;

namespace AuditAgent.Simulator;

/// <summary>A simulated Microsoft 365 tenant: domains, users and their Sent Items.</summary>
public sealed class SimTenant
{
    private readonly Dictionary<string, SimUser> _byKey = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<SimUser> _users = [];
    private readonly List<SimSentMail> _sentMail = [];

    public SimTenant(string tenantId, IEnumerable<SimDomain> domains)
    {
        TenantId = tenantId;
        Domains = domains.ToList();
    }

    public string TenantId { get; }

    public IReadOnlyList<SimDomain> Domains { get; }

    public IReadOnlyList<SimUser> Users => _users;

    /// <summary>Messages accepted by <c>POST /users/{id}/sendMail</c>, in order.</summary>
    public IReadOnlyList<SimSentMail> SentMail
    {
        get
        {
            lock (_sentMail)
            {
                return _sentMail.ToList();
            }
        }
    }

    /// <summary>Asked before sendMail takes a message: false drops it unrecorded (503), as a request lost on the way.</summary>
    public Func<bool>? BeforeMailAccepted { get; set; }

    /// <summary>Called when sendMail has accepted a message (recorded, and in Sent Items), before the caller hears 202.</summary>
    public Action? OnMailAccepted { get; set; }

    public void AddUser(SimUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        _users.Add(user);
        _byKey[user.Id] = user;
        if (!string.IsNullOrEmpty(user.UserPrincipalName))
        {
            _byKey.TryAdd(user.UserPrincipalName, user);
        }
    }

    /// <summary>Finds a user by object id or user principal name, as Graph's /users/{id-or-upn} does.</summary>
    public SimUser? FindUser(string idOrUpn) => _byKey.GetValueOrDefault(idOrUpn);

    internal void RecordSentMail(SimSentMail mail)
    {
        lock (_sentMail)
        {
            _sentMail.Add(mail);
        }
    }
}

public sealed record SimDomain(string Id, bool IsVerified = true, bool IsDefault = false, bool IsInitial = false)
{
    public IReadOnlyList<string> SupportedServices { get; init; } = ["Email"];
}

/// <summary>A mail accepted by sendMail: the sending user and the message, as JSON or as MIME.</summary>
public sealed record SimSentMail(string UserId, JsonObject? Body, MimeKit.MimeMessage? Mime, DateTimeOffset AcceptedAt)
{
    public string? Subject => Mime?.Subject ?? Body?["message"]?["subject"]?.GetValue<string>();

    public string? Html => Mime?.HtmlBody ?? Body?["message"]?["body"]?["content"]?.GetValue<string>();

    public string? Text => Mime?.TextBody;

    public IReadOnlyList<string> To => Mime is not null
        ? Mime.To.Mailboxes.Select(m => m.Address).ToList()
        : (Body?["message"]?["toRecipients"] as JsonArray ?? []).Select(r => r?["emailAddress"]?["address"]?.GetValue<string>() ?? "").ToList();
}

public sealed class SimUser
{
    private readonly List<SimMessage> _added = [];
    private readonly Func<IReadOnlyList<SimMessage>>? _generate;
    private readonly IReadOnlyList<SimMessage>? _fixed;
    private WeakReference<IReadOnlyList<SimMessage>>? _cache;
    private int _epoch;

    /// <param name="sentItems">A fixed list of messages (tenant files, tests).</param>
    /// <param name="generate">
    /// Or a deterministic generator: large generated tenants are regenerated on demand instead of
    /// held in memory, so a 20,000-mailbox tenant fits beside the agent.
    /// </param>
    public SimUser(string id, IReadOnlyList<SimMessage>? sentItems = null, Func<IReadOnlyList<SimMessage>>? generate = null)
    {
        Id = id;
        _fixed = sentItems ?? (generate is null ? [] : null);
        _generate = generate;
    }

    public string Id { get; }

    public string? DisplayName { get; init; }

    public string? Mail { get; init; }

    public string? UserPrincipalName { get; init; }

    public bool AccountEnabled { get; init; } = true;

    public string? ManagerId { get; init; }

    public string? JobTitle { get; init; }

    /// <summary>mailboxSettings.timeZone (Windows or IANA name, as Exchange keeps it); served at /users/{id}/mailboxSettings with MailboxSettings.Read.</summary>
    public string? TimeZone { get; init; }

    /// <summary>mailboxSettings.userPurpose: user, shared, room, equipment, linked, others.</summary>
    public string UserPurpose { get; init; } = "user";

    /// <summary>The directory's preferredLanguage (ISO 639-1 and country, e.g. "de-DE"); null when not set, as Graph answers for most users.</summary>
    public string? PreferredLanguage { get; init; }

    /// <summary>The directory's department ("Human Resources").</summary>
    public string? Department { get; init; }

    /// <summary>False for a user without an Exchange Online mailbox (unlicensed, on-premises): mail requests get 404 MailboxNotEnabledForRESTAPI.</summary>
    public bool HasMailbox { get; set; } = true;

    private readonly List<SimMessage> _inbox = [];

    /// <summary>Messages received (the Inbox), served under /mailFolders/inbox/messages and, with Sent Items, under /messages.</summary>
    public IReadOnlyList<SimMessage> InboxItems
    {
        get
        {
            lock (_inbox)
            {
                return _inbox.ToList();
            }
        }
    }

    /// <summary>Adds a message to the Inbox, as if it had just arrived.</summary>
    public void AddInboxItem(SimMessage message)
    {
        lock (_inbox)
        {
            _inbox.Add(message);
        }
    }

    /// <summary>The app may not read this mailbox (outside an Exchange RBAC scope): mail requests get 403.</summary>
    public bool OutsideAppScope { get; set; }

    /// <summary>Incremented to invalidate every delta and skip token issued so far for this mailbox.</summary>
    public int DeltaEpoch => Volatile.Read(ref _epoch);

    public int SentItemCount
    {
        get
        {
            var baseCount = BaseItems().Count;
            lock (_added)
            {
                return baseCount + _added.Count;
            }
        }
    }

    /// <summary>Graph's answer to a lost sync state: every token issued so far now gets 410 Gone.</summary>
    public void InvalidateDeltaTokens() => Interlocked.Increment(ref _epoch);

    /// <summary>Drops the generated Sent Items kept since the last request, so the next one generates them again.</summary>
    public void ForgetGenerated() => _cache = null;

    /// <summary>Adds a message to Sent Items, as if the user had just sent it.</summary>
    public void AddSentItem(SimMessage message)
    {
        lock (_added)
        {
            _added.Add(message);
        }
    }

    /// <summary>Messages at positions [from, to) in the order they arrived in Sent Items.</summary>
    public IReadOnlyList<SimMessage> SentItemsRange(int from, int to)
    {
        var items = BaseItems();
        var result = new List<SimMessage>(Math.Max(0, to - from));
        lock (_added)
        {
            for (var i = from; i < to; i++)
            {
                if (i < items.Count)
                {
                    result.Add(items[i]);
                }
                else if (i - items.Count < _added.Count)
                {
                    result.Add(_added[i - items.Count]);
                }
            }
        }

        return result;
    }

    private IReadOnlyList<SimMessage> BaseItems()
    {
        if (_fixed is not null)
        {
            return _fixed;
        }

        if (_cache is not null && _cache.TryGetTarget(out var cached))
        {
            return cached;
        }

        var generated = _generate!();
        _cache = new WeakReference<IReadOnlyList<SimMessage>>(generated);
        return generated;
    }
}

public sealed record SimRecipient(string? Address, string? Name);

/// <summary>
/// A message in Sent Items. Either typed (generated tenants) or <see cref="Raw"/> Graph JSON, served
/// as it is (tenant files and malformed input).
/// </summary>
public sealed class SimMessage
{
    public string? Id { get; init; }

    public string? InternetMessageId { get; init; }

    public string? ConversationId { get; init; }

    /// <summary>The conversation, from the typed property or the raw JSON.</summary>
    public string? ConversationOf => ConversationId ?? (Raw?["conversationId"] is JsonValue v && v.TryGetValue<string>(out var c) ? c : null);

    public string? Subject { get; init; }

    public DateTimeOffset? SentDateTime { get; init; }

    public DateTimeOffset? ReceivedDateTime { get; init; }

    public SimRecipient? From { get; init; }

    public SimRecipient? Sender { get; init; }

    public IReadOnlyList<SimRecipient> To { get; init; } = [];

    public IReadOnlyList<SimRecipient> Cc { get; init; } = [];

    public IReadOnlyList<SimRecipient> Bcc { get; init; } = [];

    public bool HasAttachments { get; init; }

    public JsonObject? Raw { get; init; }

    /// <summary>Wraps Graph message JSON; its receivedDateTime (or sentDateTime) drives $filter.</summary>
    public static SimMessage FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new SimMessage
        {
            Id = TryString(json["id"]),
            ReceivedDateTime = TryDate(json["receivedDateTime"]) ?? TryDate(json["sentDateTime"]),
            Raw = json,
        };
    }

    private static string? TryString(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    private static DateTimeOffset? TryDate(JsonNode? node) =>
        TryString(node) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var d) ? d : null;
}
