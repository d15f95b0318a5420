namespace AuditAgent.Graph;

/// <summary>A Microsoft Graph application permission (an app role) and why the agent needs it.</summary>
public sealed record GraphRole(string Name, string Why);

/// <summary>The least-privileged permissions the agent asks for, and the consent URL that grants them.</summary>
public static class Permissions
{
    public static readonly GraphRole MailReadBasic = new(
        "Mail.ReadBasic.All",
        "read the sender, recipients (To, Cc, Bcc), subject and dates of Sent Items in every mailbox; never bodies or attachments (Mail.Read would expose those, so it is not requested)");

    public static readonly GraphRole UserRead = new(
        "User.Read.All",
        "list the users to find the mailboxes to scan, and read each sender's manager for escalations");

    public static readonly GraphRole DomainRead = new(
        "Domain.Read.All",
        "read the tenant's verified domains, which decide which recipients are internal");

    public static readonly GraphRole MailSend = new(
        "Mail.Send",
        "send the daily digest and the escalations from the sender mailbox (when Notifications:Transport is Graph), and apologies from Notifications:Apology:Mailbox; scope it to those mailboxes");

    public static readonly GraphRole MailboxSettingsRead = new(
        "MailboxSettings.Read",
        "optional: read each mailbox's purpose (user, shared, room, equipment), so that rooms and equipment are not scanned and status shows shared mailboxes, and each manager's and sender's time zone, so that mail gives times in theirs (without it, every mailbox with an address is scanned and times are in Schedule:TimeZone)");

    /// <summary>Granted permissions that give the agent more than it needs, with what to use instead.</summary>
    public static readonly IReadOnlyDictionary<string, string> Broader = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Mail.Read"] = "reads message bodies and attachments; Mail.ReadBasic.All is enough",
        ["Mail.ReadWrite"] = "can change and delete mail; Mail.ReadBasic.All is enough",
        ["Mail.ReadWrite.Shared"] = "can change mail; Mail.ReadBasic.All is enough",
        ["MailboxSettings.ReadWrite"] = "can change mailbox settings; not needed",
        ["Directory.Read.All"] = "reads the whole directory; User.Read.All and Domain.Read.All are enough",
        ["Directory.ReadWrite.All"] = "can change the directory; User.Read.All and Domain.Read.All are enough",
        ["User.ReadWrite.All"] = "can change users; User.Read.All is enough",
        ["Domain.ReadWrite.All"] = "can change domains; Domain.Read.All is enough",
    };

    public static IReadOnlyList<GraphRole> Required(bool sendsThroughGraph) =>
        sendsThroughGraph ? [MailReadBasic, UserRead, DomainRead, MailSend] : [MailReadBasic, UserRead, DomainRead];

    /// <summary>The v2 admin-consent URL: an administrator opens it to grant the app's configured permissions.</summary>
    public static string AdminConsentUrl(GraphCloud cloud, string tenantId, string clientId, string redirectUri, string state = "auditagent-consent")
    {
        var endpoints = CloudEndpoints.For(cloud);
        return $"{endpoints.AuthorityHost.AbsoluteUri.TrimEnd('/')}/{Uri.EscapeDataString(tenantId)}/v2.0/adminconsent"
            + $"?client_id={Uri.EscapeDataString(clientId)}"
            + $"&scope={Uri.EscapeDataString(endpoints.Scope)}"
            + $"&redirect_uri={Uri.EscapeDataString(redirectUri)}"
            + $"&state={Uri.EscapeDataString(state)}";
    }
}
