namespace AuditAgent.Core.Incidents;

/// <summary>
/// The Public Suffix List (publicsuffix.org): the names under which anyone can register a domain
/// (com, co.uk, github.io, *.ck, ...). Allowlisting one of them would allowlist everybody under it.
/// </summary>
public sealed class PublicSuffixes
{
    private readonly HashSet<string> _rules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wildcards = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    private PublicSuffixes()
    {
    }

    /// <summary>Reads the list's format: one rule per line, "//" comments, "*." wildcards and "!" exceptions.</summary>
    public static PublicSuffixes Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new PublicSuffixes();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var rule = System.Globalization.CultureInfo.InvariantCulture.TextInfo.ToLower(line.Split(' ', '\t')[0]);
            rule = Ascii(rule);
            if (rule.StartsWith('!'))
            {
                list._exceptions.Add(rule[1..]);
            }
            else if (rule.StartsWith("*.", StringComparison.Ordinal))
            {
                list._wildcards.Add(rule[2..]);
            }
            else
            {
                list._rules.Add(rule);
            }
        }

        return list;
    }

    /// <summary>The list names this suffix itself (not only through a wildcard or the implicit top-level rule).</summary>
    public bool IsListed(string domain) => _rules.Contains(domain);

    /// <summary>True when <paramref name="domain"/> (lower case, punycode) is itself a public suffix.</summary>
    public bool IsPublicSuffix(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (_rules.Contains(domain))
        {
            return true;
        }

        var dot = domain.IndexOf('.', StringComparison.Ordinal);
        // Every top-level name is a suffix, listed or not (the list's implicit "*" rule).
        return dot < 0 || (_wildcards.Contains(domain[(dot + 1)..]) && !_exceptions.Contains(domain));
    }

    private static string Ascii(string rule)
    {
        var prefix = rule.StartsWith('!') ? "!" : rule.StartsWith("*.", StringComparison.Ordinal) ? "*." : "";
        var name = rule[prefix.Length..];
        try
        {
            return prefix + new System.Globalization.IdnMapping().GetAscii(name);
        }
        catch (ArgumentException)
        {
            return rule;
        }
    }
}
