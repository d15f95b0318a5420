namespace AuditAgent.Core.Detection;

/// <summary>The tenant's own domains. A subdomain of an internal domain is internal too.</summary>
public sealed class InternalDomains
{
    private readonly HashSet<string> _domains;

    public InternalDomains(IEnumerable<string> domains)
    {
        _domains = new HashSet<string>(StringComparer.Ordinal);
        foreach (var domain in domains)
        {
            // Normalise through the same parser as recipients so IDN and case match.
            if (EmailAddress.TryParse("x@" + domain, out var parsed))
            {
                _domains.Add(parsed.Domain);
            }
        }
    }

    public IReadOnlyCollection<string> All => _domains;

    public bool Contains(string asciiDomain)
    {
        ArgumentNullException.ThrowIfNull(asciiDomain);
        return Contains(asciiDomain.AsSpan());
    }

    /// <summary>The same for a domain as ASCII bytes (the scan's fast path reads addresses as UTF-8).</summary>
    public bool Contains(ReadOnlySpan<byte> asciiDomain)
    {
        Span<char> chars = asciiDomain.Length <= 256 ? stackalloc char[asciiDomain.Length] : new char[asciiDomain.Length];
        return System.Text.Ascii.ToUtf16(asciiDomain, chars, out var written) == System.Buffers.OperationStatus.Done && Contains(chars[..written]);
    }

    public bool Contains(ReadOnlySpan<char> asciiDomain)
    {
        // Walks up the labels (a.b.contoso.com, b.contoso.com, contoso.com, com) without allocating.
        var lookup = _domains.GetAlternateLookup<ReadOnlySpan<char>>();
        var candidate = asciiDomain;
        while (true)
        {
            if (lookup.Contains(candidate))
            {
                return true;
            }

            var dot = candidate.IndexOf('.');
            if (dot < 0)
            {
                return false;
            }

            candidate = candidate[(dot + 1)..];
        }
    }
}
