using AuditAgent.Core.Detection;

namespace AuditAgent.Core.Incidents;

public enum AllowlistKind
{
    /// <summary>A partner domain (its subdomains included): mail only to such domains is not an incident.</summary>
    Domain,

    /// <summary>A sender (e.g. the bulk-mail platform's service account): its mail is not an incident.</summary>
    Sender,
}

/// <summary>An allowlist entry: who added it, why, and until when.</summary>
public sealed record AllowlistEntry(long Id, AllowlistKind Kind, string Value, string AddedBy, string Reason, DateTimeOffset AddedAt, DateTimeOffset? ExpiresAt)
{
    public bool IsActive(DateTimeOffset now) => ExpiresAt is null || ExpiresAt > now;

    public string Describe() => $"{Kind.ToString().ToLowerInvariant()} {Value} (added by {AddedBy}: {Reason})";
}

/// <summary>The active allowlist at one moment.</summary>
public sealed class Allowlist
{
    private readonly List<AllowlistEntry> _domains;
    private readonly Dictionary<string, AllowlistEntry> _senders;

    public Allowlist(IEnumerable<AllowlistEntry> entries, DateTimeOffset now)
    {
        var active = (entries ?? []).Where(e => e.IsActive(now)).ToList();
        _domains = active.Where(e => e.Kind == AllowlistKind.Domain).ToList();
        _senders = active.Where(e => e.Kind == AllowlistKind.Sender)
            .GroupBy(e => Normalise(e.Value))
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public static Allowlist Empty { get; } = new([], DateTimeOffset.MinValue);

    public AllowlistEntry? Sender(string address) => _senders.GetValueOrDefault(Normalise(address));

    /// <summary>The entry that covers this domain (the domain itself or a parent), if any.</summary>
    public AllowlistEntry? Domain(string domain) =>
        _domains.FirstOrDefault(e =>
        {
            var d = NormaliseDomain(e.Value);
            return domain.Equals(d, StringComparison.Ordinal) || domain.EndsWith("." + d, StringComparison.Ordinal);
        });

    private static string Normalise(string address) => EmailAddress.TryParse(address, out var a) ? a.Value : address.Trim().ToLowerInvariant();

    private static string NormaliseDomain(string domain) => EmailAddress.TryParse("x@" + domain, out var a) ? a.Domain : domain.Trim().ToLowerInvariant();
}
