using System.Globalization;

namespace AuditAgent.Core.Detection;

/// <summary>
/// A normalised SMTP address: trimmed, lower-cased, domain in its ASCII (punycode) form, so that
/// "Ann@Bücher.de" and "ann@xn--bcher-kva.de" compare equal.
/// </summary>
public readonly record struct EmailAddress(string Value)
{
    /// <summary>The domain, ASCII (punycode) and lower-case; a new string each time (<see cref="DomainSpan"/> is not).</summary>
    public string Domain => DomainSpan.ToString();

    public ReadOnlySpan<char> DomainSpan => Value.AsSpan(Value.LastIndexOf('@') + 1);

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    public override string ToString() => Value;

    /// <summary>
    /// The common case, without allocating a new address: already trimmed, lower-case ASCII, one '@',
    /// a plain domain with a dot. Anything else takes the full path below.
    /// </summary>
    private static bool TryParseCanonical(string raw, out EmailAddress address)
    {
        var at = CanonicalAt(raw.AsSpan());
        address = at < 0 ? default : new EmailAddress(raw);
        return at >= 0;
    }

    /// <summary>
    /// Whether UTF-8 text is an address already in its normal form (what <see cref="TryParse"/> would return
    /// unchanged): the scan's fast path counts such addresses without making strings of them.
    /// </summary>
    /// <returns>The index of the '@', or -1 when the text is not canonical (it may still be an address).</returns>
    public static int CanonicalAt(ReadOnlySpan<byte> utf8) => CanonicalAt(utf8, LocalBytes, DomainBytes, (byte)'@', (byte)'.');

    private const string LocalCharacters = "abcdefghijklmnopqrstuvwxyz0123456789._-+'&=";
    private const string DomainCharacters = "abcdefghijklmnopqrstuvwxyz0123456789.-";
    private static readonly System.Buffers.SearchValues<char> LocalChars = System.Buffers.SearchValues.Create(LocalCharacters);
    private static readonly System.Buffers.SearchValues<char> DomainChars = System.Buffers.SearchValues.Create(DomainCharacters);
    private static readonly System.Buffers.SearchValues<byte> LocalBytes = System.Buffers.SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(LocalCharacters));
    private static readonly System.Buffers.SearchValues<byte> DomainBytes = System.Buffers.SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(DomainCharacters));

    private static int CanonicalAt(ReadOnlySpan<char> raw) => CanonicalAt(raw, LocalChars, DomainChars, '@', '.');

    /// <summary>
    /// One rule for UTF-16 and UTF-8 text (every character it accepts is ASCII, so both give the same answer):
    /// lower-case letters, digits and a few signs before the one '@'; after it, labels of letters, digits and '-',
    /// at least two, none empty. Each part is checked against its set at once (vectorised), not a character at a time.
    /// </summary>
    private static int CanonicalAt<T>(ReadOnlySpan<T> raw, System.Buffers.SearchValues<T> local, System.Buffers.SearchValues<T> domainSet, T at, T dot)
        where T : IEquatable<T>
    {
        var sign = raw.IndexOf(at);
        if (sign <= 0 || sign == raw.Length - 1 || raw[..sign].ContainsAnyExcept(local))
        {
            return -1;
        }

        // A second '@' is not in the domain's set.
        var domain = raw[(sign + 1)..];
        return domain.ContainsAnyExcept(domainSet) || domain[0].Equals(dot) || domain[^1].Equals(dot) || !domain.Contains(dot) || domain.IndexOf([dot, dot]) >= 0
            ? -1
            : sign;
    }

    private static bool IsPlainAsciiDomain(string domain)
    {
        foreach (var c in domain)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
            {
                return false;
            }
        }

        return domain.Length > 0;
    }

    /// <summary>
    /// Returns false for anything that is not a routable address: null, empty, no '@', an empty
    /// local part or domain, white space inside, a single-label domain, or an invalid IDN.
    /// Legacy Exchange DNs ("/o=ExchangeLabs/...") land here too: they are internal recipients.
    /// </summary>
    public static bool TryParse(string? raw, out EmailAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return false;
        }

        if (TryParseCanonical(raw, out address))
        {
            return true;
        }

        var text = raw.Trim();
        if (text.StartsWith("smtp:", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }

        if (text.Length > 2 && text[0] == '<' && text[^1] == '>')
        {
            text = text[1..^1].Trim();
        }

        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1 || text.Any(char.IsWhiteSpace) || text.Any(char.IsControl))
        {
            return false;
        }

        var local = text[..at];
        var domain = text[(at + 1)..].TrimEnd('.');
        if (local.Contains('@', StringComparison.Ordinal) && !(local.StartsWith('"') && local.EndsWith('"')))
        {
            return false;
        }

        string asciiDomain;
        if (IsPlainAsciiDomain(domain))
        {
            // The common case needs no IDN mapping: letters, digits, hyphens and dots only.
            asciiDomain = domain.ToLowerInvariant();
            if (asciiDomain.StartsWith('.') || asciiDomain.Contains("..", StringComparison.Ordinal))
            {
                return false;
            }
        }
        else
        {
            try
            {
                asciiDomain = Idn.GetAscii(domain).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        if (!asciiDomain.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        address = new EmailAddress($"{local.ToLowerInvariant()}@{asciiDomain}");
        return true;
    }
}
