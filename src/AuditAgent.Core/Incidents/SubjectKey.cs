using System.Text.RegularExpressions;

namespace AuditAgent.Core.Incidents;

/// <summary>A subject reduced for grouping: reply/forward prefixes, case and spacing do not matter.</summary>
public static partial class SubjectKey
{
    public static string Of(string? subject)
    {
        var text = Spaces().Replace(subject ?? "", " ").Trim();
        string previous;
        do
        {
            previous = text;
            text = Prefix().Replace(text, "").Trim();
        }
        while (text != previous);

        return text.ToLowerInvariant();
    }

    // RE, FW, FWD and their Outlook translations (AW, WG, SV, VS, TR, RV, ANTW, RIF, ENC, R), with counters like "RE[2]:".
    [GeneratedRegex(@"^(re|fw|fwd|aw|wg|sv|vs|tr|rv|antw|rif|enc|r)\s*(\[\d+\])?\s*[:：]\s*", RegexOptions.IgnoreCase)]
    private static partial Regex Prefix();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
