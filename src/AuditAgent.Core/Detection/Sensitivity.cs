using System.Globalization;
using System.Text;

namespace AuditAgent.Core.Detection;

/// <summary>
/// What being on a list can reveal about the people on it. Most are GDPR Art. 9 special categories;
/// children (Art. 8, Recital 38), criminal records (Art. 10) and financial hardship are weighed as
/// sensitive by regulators too.
/// </summary>
public enum SensitiveCategory
{
    Health,
    SexLife,
    Religion,
    Political,
    TradeUnion,
    Children,
    Criminal,
    Financial,
}

public static class SensitiveCategories
{
    /// <summary>The key used in the terms file, settings, events and the register.</summary>
    public static string Key(this SensitiveCategory category) => category switch
    {
        SensitiveCategory.Health => "health",
        SensitiveCategory.SexLife => "sex-life",
        SensitiveCategory.Religion => "religion",
        SensitiveCategory.Political => "political",
        SensitiveCategory.TradeUnion => "trade-union",
        SensitiveCategory.Children => "children",
        SensitiveCategory.Criminal => "criminal",
        SensitiveCategory.Financial => "financial",
        _ => category.ToString().ToLowerInvariant(),
    };

    /// <summary>In words, with the article that makes it sensitive: "health data (GDPR Art. 9)".</summary>
    public static string Describe(this SensitiveCategory category) => category switch
    {
        SensitiveCategory.Health => "health data (GDPR Art. 9)",
        SensitiveCategory.SexLife => "data about sex life or sexual orientation (GDPR Art. 9)",
        SensitiveCategory.Religion => "religious or philosophical beliefs (GDPR Art. 9)",
        SensitiveCategory.Political => "political opinions (GDPR Art. 9)",
        SensitiveCategory.TradeUnion => "trade union membership (GDPR Art. 9)",
        SensitiveCategory.Children => "children's data (GDPR Art. 8, Recital 38)",
        SensitiveCategory.Criminal => "criminal convictions or offences (GDPR Art. 10)",
        SensitiveCategory.Financial => "financial hardship (not an Art. 9 category, but weighed as sensitive)",
        _ => category.ToString(),
    };

    public static bool TryParse(string? text, out SensitiveCategory category)
    {
        foreach (var candidate in Enum.GetValues<SensitiveCategory>())
        {
            if (string.Equals(candidate.Key(), text?.Trim(), StringComparison.OrdinalIgnoreCase)
                || string.Equals(candidate.ToString(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                category = candidate;
                return true;
            }
        }

        category = default;
        return false;
    }

    /// <summary>Every key, for messages that name what is allowed.</summary>
    public static string AllKeys => string.Join(", ", Enum.GetValues<SensitiveCategory>().Select(c => c.Key()));
}

/// <summary>One reason a list looks sensitive: its category and the sentence that says why.</summary>
public sealed record SensitiveMatch(SensitiveCategory Category, string Reason)
{
    /// <summary>Stored one per line as "category&lt;TAB&gt;reason".</summary>
    public string Stored => $"{Category.Key()}\t{Reason}";

    public static IReadOnlyList<SensitiveMatch> ParseStored(string? stored)
    {
        var result = new List<SensitiveMatch>();
        foreach (var line in (stored ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t', 2);
            if (parts.Length == 2 && SensitiveCategories.TryParse(parts[0], out var category))
            {
                result.Add(new SensitiveMatch(category, parts[1]));
            }
        }

        return result;
    }
}

/// <summary>
/// A list of terms per category, matched on whole words, ignoring case and diacritics ("Schwangerschaft",
/// "religión" = "religion"). A term may be several words ("support group"); a trailing * matches words that
/// start with it ("diabet*"). A term never matches inside another word: "HIV" does not match "archive".
/// </summary>
public sealed class SensitiveTerms
{
    private readonly Dictionary<string, List<Term>> _byFirstWord = new(StringComparer.Ordinal);
    private readonly List<Term> _prefixFirst = [];

    private SensitiveTerms(IEnumerable<Term> terms)
    {
        foreach (var term in terms)
        {
            if (term.Words.Length == 1 && term.LastIsPrefix)
            {
                _prefixFirst.Add(term);
            }
            else
            {
                if (!_byFirstWord.TryGetValue(term.Words[0], out var list))
                {
                    _byFirstWord[term.Words[0]] = list = [];
                }

                list.Add(term);
            }
        }

        Count = _byFirstWord.Values.Sum(l => l.Count) + _prefixFirst.Count;
    }

    public int Count { get; }

    /// <summary>
    /// Reads the terms file: a "[category]" line starts a section, every other line is a term; "#" starts a
    /// comment. Throws <see cref="FormatException"/> naming the line of anything it cannot use.
    /// </summary>
    public static SensitiveTerms Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<Term>();
        SensitiveCategory? category = null;
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                category = SensitiveCategories.TryParse(line[1..^1], out var c)
                    ? c
                    : throw new FormatException($"{source} line {number}: '{line}' is not a category; use one of {SensitiveCategories.AllKeys}.");
                continue;
            }

            if (category is null)
            {
                throw new FormatException($"{source} line {number}: the term '{line}' comes before any [category] line.");
            }

            var prefix = line.EndsWith('*');
            var words = Words(prefix ? line[..^1] : line).Select(w => w.Normalized).ToArray();
            if (words.Length == 0 || (prefix && words.Length == 1 && words[0].Length < 3))
            {
                throw new FormatException($"{source} line {number}: '{line}' has no word to match{(prefix ? " (a one-word prefix needs at least three letters)" : "")}.");
            }

            terms.Add(new Term(category.Value, words, prefix));
        }

        return new SensitiveTerms(terms);
    }

    /// <summary>The first term found in <paramref name="text"/>: its category and the words as written there.</summary>
    public (SensitiveCategory Category, string Found)? FirstMatch(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var words = Words(text);
        for (var i = 0; i < words.Count; i++)
        {
            if (_byFirstWord.TryGetValue(words[i].Normalized, out var candidates))
            {
                foreach (var term in candidates)
                {
                    if (term.MatchesAt(words, i) is { } end)
                    {
                        return (term.Category, text[words[i].Start..words[end].End]);
                    }
                }
            }

            foreach (var term in _prefixFirst)
            {
                if (words[i].Normalized.StartsWith(term.Words[0], StringComparison.Ordinal))
                {
                    return (term.Category, text[words[i].Start..words[i].End]);
                }
            }
        }

        return null;
    }

    /// <summary>The words of a text: runs of letters and digits, lower case and without diacritics, with where each stood.</summary>
    internal static List<Word> Words(string text)
    {
        var words = new List<Word>();
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsLetterOrDigit(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || char.GetUnicodeCategory(text[i]) == UnicodeCategory.NonSpacingMark))
            {
                i++;
            }

            words.Add(new Word(Normalize(text[start..i]), start, i));
        }

        return words;
    }

    private static string Normalize(string word)
    {
        // ASCII has no diacritics to drop and no ß: lower case is all (most names and subjects, and no string per letter).
        if (System.Text.Ascii.IsValid(word))
        {
            return word.ToLowerInvariant();
        }

        var decomposed = word.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                if (c == 'ß')
                {
                    builder.Append("ss");
                }
                else
                {
                    builder.Append(char.ToLowerInvariant(c));
                }
            }
        }

        return builder.ToString();
    }

    internal readonly record struct Word(string Normalized, int Start, int End);

    private sealed record Term(SensitiveCategory Category, string[] Words, bool LastIsPrefix)
    {
        /// <summary>The index of the last word of the match starting at <paramref name="start"/>, or null.</summary>
        public int? MatchesAt(List<Word> text, int start)
        {
            if (start + Words.Length > text.Count)
            {
                return null;
            }

            for (var k = 0; k < Words.Length; k++)
            {
                var word = text[start + k].Normalized;
                var matches = k == Words.Length - 1 && LastIsPrefix
                    ? word.StartsWith(Words[k], StringComparison.Ordinal)
                    : word == Words[k];
                if (!matches)
                {
                    return null;
                }
            }

            return start + Words.Length - 1;
        }
    }
}

/// <summary>Where the agent looks for what a list is about, without reading any body.</summary>
/// <param name="Mailboxes">Sending mailboxes known to be sensitive (a clinic's shared mailbox), by address.</param>
/// <param name="Departments">Directory departments whose mail is sensitive (HR, the school office), by name.</param>
public sealed record SensitivityRules(
    SensitiveTerms Terms,
    IReadOnlyDictionary<string, SensitiveCategory> Mailboxes,
    IReadOnlyDictionary<string, SensitiveCategory> Departments)
{
    /// <summary>
    /// What makes this message's list sensitive, one reason per category: the subject, the sending mailbox
    /// (listed, or its name), the department of its owner, the recipients' display names ("Parents class 4B").
    /// </summary>
    public IReadOnlyList<SensitiveMatch> Assess(SentMessage message, string? mailboxName, string? department)
    {
        ArgumentNullException.ThrowIfNull(message);
        var found = new Dictionary<SensitiveCategory, SensitiveMatch>();
        void Add(SensitiveCategory category, string reason) => found.TryAdd(category, new SensitiveMatch(category, reason));

        if (Terms.FirstMatch(message.Subject) is { } subject)
        {
            Add(subject.Category, $"the subject suggests {subject.Category.Describe()}: '{subject.Found}'");
        }

        foreach (var address in new[] { message.MailboxAddress, message.From?.Address, message.Sender?.Address })
        {
            if (address is not null && Mailboxes.TryGetValue(address.Trim(), out var listed))
            {
                Add(listed, $"the list was sent from {address.Trim().ToLowerInvariant()}, a mailbox listed as sensitive for {listed.Describe()}");
            }
        }

        foreach (var name in new[] { mailboxName, message.From?.Name, LocalPart(message.MailboxAddress), LocalPart(message.From?.Address) })
        {
            if (Terms.FirstMatch(name) is { } sender)
            {
                Add(sender.Category, $"the sending mailbox's name suggests {sender.Category.Describe()}: '{sender.Found}'");
            }
        }

        if (department is { Length: > 0 })
        {
            if (Departments.TryGetValue(department.Trim(), out var dept))
            {
                Add(dept, $"the sending mailbox belongs to the department '{department.Trim()}', listed as sensitive for {dept.Describe()}");
            }
            else if (Terms.FirstMatch(department) is { } d)
            {
                Add(d.Category, $"the sending mailbox's department suggests {d.Category.Describe()}: '{d.Found}'");
            }
        }

        foreach (var recipient in message.To.Concat(message.Cc))
        {
            if (Terms.FirstMatch(recipient.Name) is { } r)
            {
                Add(r.Category, $"a recipient's display name suggests {r.Category.Describe()}: '{r.Found}'");
            }
        }

        return [.. found.Values.OrderBy(m => m.Category)];
    }

    private static string? LocalPart(string? address) => address?.Split('@')[0];
}
