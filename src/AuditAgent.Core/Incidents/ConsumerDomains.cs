namespace AuditAgent.Core.Incidents;

/// <summary>
/// Mailbox providers for private people (gmail.com, hotmail.*, ...). An address there is most likely a
/// person's own, so exposing it is more serious. A pattern "name.*" matches name under any suffix
/// (hotmail.com, hotmail.co.uk, hotmail.de).
/// </summary>
public sealed class ConsumerDomains
{
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _anySuffix = new(StringComparer.OrdinalIgnoreCase);

    public ConsumerDomains(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        foreach (var raw in patterns)
        {
            var pattern = raw.Trim().ToLowerInvariant();
            if (pattern.Length == 0 || pattern.StartsWith('#'))
            {
                continue;
            }

            if (pattern.EndsWith(".*", StringComparison.Ordinal))
            {
                _anySuffix.Add(pattern[..^2]);
            }
            else
            {
                _exact.Add(pattern);
            }
        }
    }

    public int Count => _exact.Count + _anySuffix.Count;

    /// <summary>Reads the list format: one domain or "name.*" per line, '#' starts a comment.</summary>
    public static ConsumerDomains Parse(string text) =>
        new((text ?? "").Split('\n').Select(l => l.Split('#')[0]));

    public bool Contains(string domain)
    {
        if (_exact.Contains(domain))
        {
            return true;
        }

        var dot = domain.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && _anySuffix.Contains(domain[..dot]) && Organisations.IsPublicSuffixLike(domain[(dot + 1)..]);
    }
}

/// <summary>
/// Which organisation a domain belongs to, without a public suffix list: the last two labels, or the
/// last three under common two-level country suffixes (co.uk, com.au, co.jp, ...). So eu.fabrikam.com,
/// fabrikam.com and mail.fabrikam.co.uk resolve to fabrikam.com and fabrikam.co.uk.
/// </summary>
public static class Organisations
{
    private static readonly HashSet<string> SecondLevel = new(StringComparer.OrdinalIgnoreCase)
    {
        "co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "gv", "nhs", "ltd", "plc", "gob", "gouv", "govt",
    };

    public static string Of(string domain)
    {
        var labels = domain.Split('.');
        if (labels.Length <= 2)
        {
            return domain;
        }

        var take = labels[^1].Length == 2 && SecondLevel.Contains(labels[^2]) ? 3 : 2;
        return string.Join('.', labels[^take..]);
    }

    /// <summary>True for "com", "de", "co.uk": what can follow a provider's name.</summary>
    internal static bool IsPublicSuffixLike(string suffix)
    {
        var labels = suffix.Split('.');
        return labels.Length == 1 || (labels.Length == 2 && labels[1].Length == 2 && SecondLevel.Contains(labels[0]));
    }
}
