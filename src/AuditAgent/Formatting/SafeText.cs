using System.Text;

namespace AuditAgent.Formatting;

/// <summary>
/// Text that came from a mailbox (subjects, names, addresses), made safe for wherever it is shown: the
/// one place every face (terminal, mail, exports, CSV) takes it from. Control characters could move a
/// terminal's cursor or hide in a file; bidirectional overrides (U+202E) can make text read backwards;
/// a subject can be a megabyte long.
/// </summary>
public static class SafeText
{
    /// <summary>The longest subject shown in mail and exports; longer ones end with an ellipsis.</summary>
    public const int SubjectLength = 250;

    /// <summary>For a terminal: control and bidirectional-override characters become '?', long text is cut.</summary>
    public static string ForTerminal(string? text, int max = 80) => Clean(text, max, '?');

    /// <summary>For HTML, CSV and Markdown: control and bidirectional-override characters are dropped, long text is cut.</summary>
    public static string Clean(string? text, int max = SubjectLength) => Clean(text, max, null);

    private static string Clean(string? text, int max, char? replacement)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(Math.Min(text.Length, max + 1));
        foreach (var c in text)
        {
            if (builder.Length >= max)
            {
                builder.Append('…');
                break;
            }

            if (!IsUnsafe(c))
            {
                builder.Append(c);
            }
            else if (replacement is { } r)
            {
                builder.Append(r);
            }
        }

        return builder.ToString();
    }

    /// <summary>C0 and C1 controls (ESC, BEL, CR, ...) and the bidirectional embeddings, overrides and isolates.</summary>
    private static bool IsUnsafe(char c) => char.IsControl(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
