using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using AuditAgent.Formatting;
using Fluid;
using Fluid.Ast;
using Fluid.Values;
using Markdig;

namespace AuditAgent.Notifications;

/// <summary>A mail as sent: the subject, the plain-text part and the HTML part.</summary>
public sealed record RenderedMail(string Subject, string Text, string Html);

/// <summary>Templates that do not parse or name what their mail does not know: each problem names the file and line.</summary>
public sealed class MailTemplateException(IReadOnlyList<string> problems)
    : ExplainedException("mail templates refused:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// The mail texts an organisation can change and translate without rebuilding: Liquid (Fluid) templates of
/// Markdown, one file per mail and language (<c>escalation.liquid</c> in Notifications:Language, other
/// languages as <c>escalation.de.liquid</c>). The first line is the subject; after a blank line comes the
/// body. The defaults are built in; a file of the same name in Notifications:TemplatesFolder replaces one, a
/// new language adds one. Each person gets the language of their directory entry (preferredLanguage) where a
/// template exists in it. The body gives both parts of the mail: the text part as written (links as "label:
/// url"), the HTML part through Markdig with every value escaped first, so text from a mailbox can never
/// become markup or a link. A template that does not parse, names a field its mail does not have, or uses an
/// unknown filter is refused when the agent starts, naming the file and line.
/// </summary>
public sealed partial class MailTemplates
{
    public const string Escalation = "escalation";
    public const string Reminder = "reminder";
    public const string SenderQuestion = "sender-question";
    public const string Apology = "apology";
    public const string Digest = "digest";
    public const string SubjectsNotice = "subjects-notice";

    /// <summary>Each mail and what its template may use (snake_case names of the model's properties).</summary>
    public static readonly IReadOnlyDictionary<string, Type> Models = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [Escalation] = typeof(EscalationModel),
        [Reminder] = typeof(EscalationModel),
        [SenderQuestion] = typeof(SenderQuestionModel),
        [Apology] = typeof(Core.Incidents.ApologyFacts),
        [Digest] = typeof(Storage.DigestModel),
        [SubjectsNotice] = typeof(Breach.SubjectsNoticeFacts),
    };

    /// <summary>The filters the agent adds to Liquid's own, by name: registered with Fluid and named in a refusal, from this one list.</summary>
    private static readonly Dictionary<string, FilterDelegate> CustomFilters = new(StringComparer.Ordinal)
    {
        // "Tuesday 1 December 2026, 16:19 Europe/Berlin (UTC+1)", in the mail's language and the recipient's zone.
        ["in_words"] = (input, _, context) =>
            new StringValue(input.ToObjectValue() is DateTimeOffset t ? Zone(context).InWords(t, context.CultureInfo) : input.ToStringValue()),
        // "2026-11-29 18:05 Europe/Berlin", for lists.
        ["minute"] = (input, _, context) => new StringValue(input.ToObjectValue() is DateTimeOffset t ? Zone(context).Minute(t) : input.ToStringValue()),
        ["ljust"] = (input, arguments, _) => new StringValue(input.ToStringValue().PadRight((int)arguments.At(0).ToNumberValue())),
        ["rjust"] = (input, arguments, _) => new StringValue(input.ToStringValue().PadLeft((int)arguments.At(0).ToNumberValue())),
        ["repeat"] = (input, arguments, _) =>
            new StringValue(string.Concat(Enumerable.Repeat(input.ToStringValue(), Math.Clamp((int)arguments.At(0).ToNumberValue(), 0, 200)))),
    };

    // After the lists it is built from: static fields initialise in the order they are written.
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = CreateOptions();
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().DisableHtml().UseGenericAttributes().Build();

    private readonly Dictionary<(string Kind, string Language), MailTemplate> _templates;

    private MailTemplates(Dictionary<(string Kind, string Language), MailTemplate> templates, string language)
    {
        _templates = templates;
        Language = language;
    }

    /// <summary>The organisation's language (Notifications:Language): mail goes in it where its template exists.</summary>
    public string Language { get; }

    /// <summary>The languages some template is written in.</summary>
    public IReadOnlyList<string> Languages => _templates.Keys.Select(k => k.Language).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private sealed record MailTemplate(string File, IFluidTemplate Subject, IFluidTemplate Body);

    /// <summary>The built-in templates, then the folder's; throws <see cref="MailTemplateException"/> naming every problem.</summary>
    public static MailTemplates Load(string? folder, string? language) =>
        // The options' validation and the service both ask at start-up: the files are read and parsed once (a failure is remembered too).
        Loaded.GetOrAdd((folder?.Trim() ?? "", language?.Trim().ToLowerInvariant() ?? ""), key => new Lazy<MailTemplates>(() => Read(folder, language))).Value;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), Lazy<MailTemplates>> Loaded = new();

    private static MailTemplates Read(string? folder, string? language)
    {
        var problems = new List<string>();
        var templates = new Dictionary<(string, string), MailTemplate>();
        var defaultLanguage = string.IsNullOrWhiteSpace(language) ? "en" : language.Trim().ToLowerInvariant();
        var assembly = typeof(MailTemplates).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".liquid", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            var name = resource[(resource.LastIndexOf("Templates.", StringComparison.Ordinal) + "Templates.".Length)..];
            Add(name, reader.ReadToEnd(), "(built in) " + name, "en");
        }

        if (!string.IsNullOrWhiteSpace(folder))
        {
            if (!Directory.Exists(folder))
            {
                problems.Add($"{NotificationOptions.Section}:TemplatesFolder '{folder}' does not exist.");
            }
            else
            {
                foreach (var file in Directory.GetFiles(folder, "*.liquid").Order(StringComparer.Ordinal))
                {
                    Add(Path.GetFileName(file), File.ReadAllText(file), file, defaultLanguage);
                }
            }
        }

        return problems.Count > 0 ? throw new MailTemplateException(problems) : new MailTemplates(templates, defaultLanguage);

        void Add(string fileName, string source, string file, string unmarkedLanguage)
        {
            var parts = fileName[..^".liquid".Length].Split('.');
            if (parts.Length > 2 || !Models.TryGetValue(parts[0], out var model))
            {
                problems.Add($"{file}: not a mail template; the names are {string.Join(", ", Models.Keys.Select(k => k + ".liquid"))}, or with a language: escalation.de.liquid.");
                return;
            }

            var lines = source.ReplaceLineEndings("\n").Split('\n');
            if (lines.Length < 3 || lines[1].Trim().Length > 0)
            {
                problems.Add($"{file}, line 2: the first line is the subject and the second must be empty (the body follows).");
                return;
            }

            var subject = Compile(file, lines[0], 1, model);
            var body = Compile(file, string.Join('\n', lines[2..]), 3, model);
            if (subject is not null && body is not null)
            {
                templates[(parts[0], parts.Length == 2 ? parts[1].ToLowerInvariant() : unmarkedLanguage)] = new MailTemplate(file, subject, body);
            }
        }

        IFluidTemplate? Compile(string file, string source, int firstLine, Type model)
        {
            if (!Parser.TryParse(source, out var template, out var error))
            {
                var at = ParseErrorAt().Match(error ?? "");
                var line = at.Success ? int.Parse(at.Groups[1].Value, CultureInfo.InvariantCulture) + firstLine - 1 : firstLine;
                problems.Add($"{file}, line {line}: {ParseErrorAt().Replace(error ?? "does not parse", "").Split('\n')[0].Trim()}");
                return null;
            }

            var check = new FieldCheck(model);
            check.VisitTemplate(template);
            foreach (var (what, name) in check.Unknown)
            {
                problems.Add($"{file}, line {LineOf(source, name) + firstLine - 1}: unknown {what} '{name}'" + (what == "field"
                    ? $" (this mail knows: {string.Join(", ", FieldCheck.Fields(model).Keys.Order(StringComparer.Ordinal))})"
                    : $" (the filters are Liquid's own and {string.Join(", ", CustomFilters.Keys)})"));
            }

            return check.Unknown.Count == 0 ? template : null;
        }
    }

    /// <summary>
    /// The language of the templates for a person whose directory entry says <paramref name="preferred"/> ("de-DE"):
    /// theirs where a template exists in it, else the organisation's, else English (every mail is built in in English).
    /// </summary>
    public string LanguageFor(string kind, string? preferred)
    {
        var wanted = preferred?.Split('-', '_')[0].Trim().ToLowerInvariant();
        return wanted is { Length: > 0 } && _templates.ContainsKey((kind, wanted)) ? wanted : _templates.ContainsKey((kind, Language)) ? Language : "en";
    }

    /// <summary>A mail in the language for <paramref name="preferredLanguage"/>: its subject, its text part and its HTML part, both from one Markdown body.</summary>
    public RenderedMail Render(string kind, string? preferredLanguage, object model, DisplayTime zone)
    {
        var (template, context, language) = Prepare(kind, preferredLanguage, model, zone);
        var subject = Line(template.Subject.Render(context, Escaper.PlainText));
        var document = Markdig.Markdown.Parse(template.Body.Render(context, Escaper.Markdown), Markdown);
        return new RenderedMail(subject, PlainText.Of(document), Layout(subject, language, document.ToHtml(Markdown)));
    }

    /// <summary>A text that is plain text throughout (the apology to edit, the digest's text part): the subject and the body as written.</summary>
    public (string Subject, string Text) RenderText(string kind, string? preferredLanguage, object model, DisplayTime zone)
    {
        var (template, context, _) = Prepare(kind, preferredLanguage, model, zone);
        var text = template.Body.Render(context, Escaper.PlainText).ReplaceLineEndings("\n");
        return (Line(template.Subject.Render(context, Escaper.PlainText)), CollapseBlankLines().Replace(text.Trim('\n'), "\n\n") + "\n");
    }

    private (MailTemplate Template, TemplateContext Context, string Language) Prepare(string kind, string? preferredLanguage, object model, DisplayTime zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var language = LanguageFor(kind, preferredLanguage);
        return (_templates[(kind, language)], Context(model, language, zone), language);
    }

    private static string Line(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static TemplateContext Context(object model, string language, DisplayTime zone)
    {
        CultureInfo culture;
        try
        {
            culture = CultureInfo.GetCultureInfo(language);
        }
        catch (CultureNotFoundException)
        {
            culture = CultureInfo.InvariantCulture;
        }

        var context = new TemplateContext(model, Options) { CultureInfo = culture, TimeZone = zone.Zone };
        context.AmbientValues["zone"] = zone;
        return context;
    }

    /// <summary>The mail's frame: the body's HTML in one card, inline styles (mail clients ignore style sheets).</summary>
    private static string Layout(string subject, string language, string body)
    {
        foreach (var (tag, style) in Styles)
        {
            body = body.Replace(tag, tag[..^1] + $" style=\"{style}\">", StringComparison.Ordinal);
        }

        body = ButtonLink().Replace(body, "<a href=\"$1\" style=\"display:inline-block;margin:0 8px 8px 0;padding:8px 12px;background:#0052cc;color:#ffffff;text-decoration:none;border-radius:3px;\">");
        body = PlainLink().Replace(body, "<a href=\"$1\" style=\"color:#0052cc;\">");
        return $"""
            <!DOCTYPE html>
            <html lang="{language}">
            <head><meta charset="utf-8"><title>{HtmlEncoder.Default.Encode(subject)}</title></head>
            <body style="margin:0;padding:16px;background:#f4f5f7;">
            <table role="presentation" width="640" cellpadding="0" cellspacing="0" style="background:#ffffff;border:1px solid #dfe1e6;font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#172b4d;">
            <tr><td style="padding:16px 24px;border-top:3px solid #0052cc;">
            {body}
            </td></tr>
            </table>
            </body>
            </html>
            """;
    }

    private static readonly (string Tag, string Style)[] Styles =
    [
        ("<h1>", "font-size:18px;margin:4px 0 12px 0;"),
        ("<h2>", "font-size:16px;margin:16px 0 8px 0;"),
        ("<p>", "margin:0 0 12px 0;"),
        ("<ul>", "margin:0 0 12px 0;padding-left:20px;"),
        ("<li>", "margin:0 0 6px 0;"),
        ("<hr />", "border:0;border-top:1px solid #dfe1e6;margin:16px 0;"),
    ];

    [GeneratedRegex("<a href=\"([^\"]*)\" class=\"button\">")]
    private static partial Regex ButtonLink();

    [GeneratedRegex("<a href=\"([^\"]*)\">")]
    private static partial Regex PlainLink();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex CollapseBlankLines();

    [GeneratedRegex(@"\s*at \((\d+):\d+\)")]
    private static partial Regex ParseErrorAt();

    private static int LineOf(string source, string name)
    {
        var last = name.Split('.')[^1];
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (Regex.IsMatch(lines[i], $@"(?<![\w.]){Regex.Escape(name)}(?!\w)") || Regex.IsMatch(lines[i], $@"\.{Regex.Escape(last)}(?!\w)|\|\s*{Regex.Escape(last)}(?!\w)"))
            {
                return i + 1;
            }
        }

        return 1;
    }

    private static TemplateOptions CreateOptions()
    {
        // Names are checked before use (FieldCheck); at render a null field is empty, as Liquid has it.
        var options = new TemplateOptions { StrictFilters = true };
        options.MemberAccessStrategy.MemberNameStrategy = MemberNameStrategies.SnakeCase;
        foreach (var type in Models.Values.SelectMany(FieldCheck.Reachable).Distinct())
        {
            options.MemberAccessStrategy.Register(type);
        }

        options.ValueConverters.Add(v => v is DateOnly d ? new StringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) : null);
        foreach (var (name, filter) in CustomFilters)
        {
            options.Filters.AddFilter(name, filter);
        }

        return options;
    }

    private static DisplayTime Zone(TemplateContext context) => context.AmbientValues.TryGetValue("zone", out var z) && z is DisplayTime d ? d : DisplayTime.Utc;

    /// <summary>
    /// Walks a template before it is used: every field it reads must be a property of its mail's model (or of a
    /// list's items inside a for loop), every filter must exist. Conditions and loops never taken by an example
    /// model are checked as well, which a trial render would miss.
    /// </summary>
    private sealed class FieldCheck(Type model) : AstVisitor
    {
        private readonly Dictionary<string, Type> _locals = new(StringComparer.Ordinal) { ["forloop"] = typeof(object) };

        public List<(string What, string Name)> Unknown { get; } = [];

        public static Dictionary<string, PropertyInfo> Fields(Type type) =>
            type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0)
                .ToDictionary(p => MemberNameStrategies.SnakeCase(p), StringComparer.Ordinal);

        /// <summary>The model and every record type it reaches (list items included): what the templates may read.</summary>
        public static HashSet<Type> Reachable(Type root)
        {
            var seen = new HashSet<Type>();
            var queue = new Queue<Type>([root]);
            while (queue.TryDequeue(out var type))
            {
                if (!seen.Add(type))
                {
                    continue;
                }

                foreach (var property in Fields(type).Values)
                {
                    if (Inner(property.PropertyType) is { } inner)
                    {
                        queue.Enqueue(inner);
                    }
                }
            }

            return seen;
        }

        /// <summary>The type a template walks into: a model record, or a list's item type; null for values.</summary>
        private static Type? Inner(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type != typeof(string) && type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)) is { } list)
            {
                return Inner(list.GetGenericArguments()[0]) ?? null;
            }

            return type.Namespace?.StartsWith("AuditAgent", StringComparison.Ordinal) == true && type.IsClass ? type : null;
        }

        private static Type? ItemOf(Type type) =>
            type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type)
                ? type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0]
                : null;

        protected override Statement VisitForStatement(ForStatement forStatement)
        {
            var item = forStatement.Source is MemberExpression source && Resolve(source) is { } list ? ItemOf(list) ?? typeof(object) : typeof(object);
            Visit(forStatement.Source);
            var previous = _locals.GetValueOrDefault(forStatement.Identifier);
            _locals[forStatement.Identifier] = item;
            foreach (var statement in forStatement.Statements)
            {
                Visit(statement);
            }

            if (forStatement.Else is not null)
            {
                Visit(forStatement.Else);
            }

            if (previous is null)
            {
                _locals.Remove(forStatement.Identifier);
            }
            else
            {
                _locals[forStatement.Identifier] = previous;
            }

            return forStatement;
        }

        protected override Statement VisitAssignStatement(AssignStatement assignStatement)
        {
            _locals[assignStatement.Identifier] = typeof(object);
            return base.VisitAssignStatement(assignStatement);
        }

        protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
        {
            _locals[captureStatement.Identifier] = typeof(object);
            return base.VisitCaptureStatement(captureStatement);
        }

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            Resolve(memberExpression);
            return base.VisitMemberExpression(memberExpression);
        }

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            if (!Options.Filters.TryGetValue(filterExpression.Name, out _))
            {
                Unknown.Add(("filter", filterExpression.Name));
            }

            return base.VisitFilterExpression(filterExpression);
        }

        /// <summary>The type a member path reads, recording the first name that does not exist; null past a value.</summary>
        private Type? Resolve(MemberExpression member)
        {
            var path = new List<string>();
            Type? current = null;
            foreach (var segment in member.Segments)
            {
                if (segment is not IdentifierSegment identifier)
                {
                    current = current is null ? null : ItemOf(current);
                    continue;
                }

                var name = identifier.Identifier;
                path.Add(name);
                if (path.Count == 1)
                {
                    if (_locals.TryGetValue(name, out var local))
                    {
                        current = local == typeof(object) ? null : local;
                        continue;
                    }

                    current = model;
                }

                if (current is null)
                {
                    return null; // inside a value Liquid knows better (forloop.index, a string's size)
                }

                if (name is "size" or "first" or "last" && ItemOf(current) is { } item)
                {
                    current = name == "size" ? null : item;
                    continue;
                }

                if (!Fields(current).TryGetValue(name, out var property))
                {
                    Unknown.Add(("field", string.Join('.', path)));
                    return null;
                }

                current = property.PropertyType;
            }

            return current;
        }
    }

    /// <summary>
    /// How a value goes into a template's output: for the Markdown that becomes HTML, every ASCII punctuation mark
    /// is escaped (a subject can never become a link, emphasis or markup) and line breaks become spaces; for the
    /// text part and the subject, only control and bidirectional-override characters are dropped.
    /// </summary>
    private sealed class Escaper(bool markdown) : TextEncoder
    {
        public static readonly Escaper Markdown = new(true);
        public static readonly Escaper PlainText = new(false);

        public override int MaxOutputCharactersPerInputCharacter => 2;

        public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
        {
            for (var i = 0; i < textLength; i++)
            {
                if (WillEncode(text[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
        {
            numberOfCharactersWritten = 0;
            if (!WillEncode(unicodeScalar))
            {
                if (bufferLength < 2)
                {
                    return false;
                }

                numberOfCharactersWritten = new Rune(unicodeScalar).EncodeToUtf16(new Span<char>(buffer, bufferLength));
                return true;
            }

            if (Dropped(unicodeScalar))
            {
                if (unicodeScalar is '\n' or '\r' or '\t')
                {
                    if (bufferLength < 1)
                    {
                        return false;
                    }

                    buffer[0] = ' ';
                    numberOfCharactersWritten = 1;
                }

                return true;
            }

            if (bufferLength < 2)
            {
                return false;
            }

            buffer[0] = '\\';
            buffer[1] = (char)unicodeScalar;
            numberOfCharactersWritten = 2;
            return true;
        }

        public override bool WillEncode(int unicodeScalar) =>
            Dropped(unicodeScalar) || (markdown && unicodeScalar < 128 && (char.IsPunctuation((char)unicodeScalar) || char.IsSymbol((char)unicodeScalar)));

        private static bool Dropped(int c) => c < 0x20 || c is >= 0x7F and < 0xA0 || c is >= 0x202A and <= 0x202E || c is >= 0x2066 and <= 0x2069;
    }
}
