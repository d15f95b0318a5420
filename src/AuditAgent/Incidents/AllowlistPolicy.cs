using AuditAgent.Core.Detection;
using AuditAgent.Core.Incidents;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Incidents;

/// <summary>
/// What may be allowlisted. A domain entry suppresses every exposure whose recipients all sit under it,
/// so "com" or "example" would silence everything: public suffixes (the Public Suffix List shipped as
/// public_suffix_list.dat), consumer mailbox providers (private people, never partners), the tenant's
/// own domains (internal mail is never an exposure) and anything that is not a domain name are refused.
/// </summary>
public sealed class AllowlistPolicy(IOptions<IncidentOptions> incidents, IOptions<ScanOptions> scan, ClusterStore cluster)
{
    private static readonly Lazy<PublicSuffixes> Suffixes = new(() =>
    {
        using var stream = typeof(AllowlistPolicy).Assembly.GetManifestResourceStream("AuditAgent.Incidents.public_suffix_list.dat")
            ?? throw new InvalidOperationException("public_suffix_list.dat is missing from the build.");
        using var reader = new StreamReader(stream);
        return PublicSuffixes.Parse(reader.ReadToEnd());
    });

    private readonly Lazy<ConsumerDomains> _consumers = new(() => incidents.Value.LoadConsumerDomains());

    /// <summary>Why the entry is refused, or null when it may be added.</summary>
    public async Task<string?> RefusalAsync(AllowlistRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Kind == AllowlistKind.Sender)
        {
            return EmailAddress.TryParse(request.Value, out _) ? null : $"'{request.Value}' is not an email address.";
        }

        if (!TryDomain(request.Value, out var domain) || (!domain.Contains('.', StringComparison.Ordinal) && !Suffixes.Value.IsListed(domain)))
        {
            return $"'{request.Value}' is not a domain name (a partner's domain looks like fabrikam.com).";
        }

        if (Suffixes.Value.IsPublicSuffix(domain))
        {
            return $"{domain} is a public suffix: anyone can register a domain under it, so allowlisting it would suppress exposures to everybody there. Allowlist the partner's own domain (e.g. fabrikam.{domain}).";
        }

        if (_consumers.Value.Contains(domain))
        {
            return $"{domain} is a consumer mailbox provider: its addresses belong to private people, whose exposure is exactly what AuditAgent reports. Allowlist a sender instead if a bulk-mail account is meant.";
        }

        var own = (await cluster.LatestInternalDomainsAsync(ct)).Concat(scan.Value.InternalDomains)
            .FirstOrDefault(d => domain.Equals(d, StringComparison.OrdinalIgnoreCase) || domain.EndsWith("." + d, StringComparison.OrdinalIgnoreCase)
                || d.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase));
        return own is null ? null : $"{domain} is (or contains) the tenant's own domain {own}: mail there is internal and never an exposure.";
    }

    /// <summary>A syntactically valid host name (letters, digits and hyphens in each label), as lower-case punycode.</summary>
    internal static bool TryDomain(string value, out string domain)
    {
        domain = "";
        string ascii;
        try
        {
            ascii = new System.Globalization.IdnMapping().GetAscii(value.Trim().TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return false;
        }

        var labels = ascii.Split('.');
        if (ascii.Length > 253
            || labels.Any(l => l.Length is 0 or > 63 || l.StartsWith('-') || l.EndsWith('-') || !l.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')))
        {
            return false;
        }

        domain = ascii;
        return true;
    }
}
