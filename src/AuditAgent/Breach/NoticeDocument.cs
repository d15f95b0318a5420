using System.Net;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace AuditAgent.Breach;

/// <summary>A block of a notice: a paragraph, or a list of items; a field to fill is written [IN BRACKETS].</summary>
public sealed record NoticeBlock(string? Text, IReadOnlyList<string>? Items = null);

/// <summary>A section of a notice, under its heading.</summary>
public sealed record NoticeSection(string Heading, IReadOnlyList<NoticeBlock> Blocks);

/// <summary>
/// A drafted notice (to the supervisory authority, or to the people affected) as sections of plain text, written
/// as Markdown, HTML or a Word document (.docx, DocumentFormat.OpenXml) with the same content. Every text is
/// plain: escaped for the format it goes into.
/// </summary>
public sealed record NoticeDocument(string Title, string Subtitle, IReadOnlyList<NoticeSection> Sections)
{
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Escape(Title)).Append("\n\n").Append('*').Append(Escape(Subtitle)).Append("*\n\n");
        foreach (var section in Sections)
        {
            md.Append("## ").Append(Escape(section.Heading)).Append("\n\n");
            foreach (var block in section.Blocks)
            {
                if (block.Text is { } text)
                {
                    md.Append(Escape(text)).Append("\n\n");
                }

                foreach (var item in block.Items ?? [])
                {
                    md.Append("- ").Append(Escape(item)).Append('\n');
                }

                if (block.Items is { Count: > 0 })
                {
                    md.Append('\n');
                }
            }
        }

        return md.ToString();
    }

    public string Html()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>").Append(E(Title)).Append("</title>")
            .Append("<style>body{font-family:Segoe UI,Arial,sans-serif;max-width:48rem;margin:2rem auto;line-height:1.45;color:#172b4d}h2{margin-top:1.6rem;font-size:1.15rem}.sub{color:#5e6c84}</style></head>\n<body>\n")
            .Append("<h1>").Append(E(Title)).Append("</h1>\n<p class=\"sub\">").Append(E(Subtitle)).Append("</p>\n");
        foreach (var section in Sections)
        {
            html.Append("<h2>").Append(E(section.Heading)).Append("</h2>\n");
            foreach (var block in section.Blocks)
            {
                if (block.Text is { } text)
                {
                    html.Append("<p>").Append(E(text)).Append("</p>\n");
                }

                if (block.Items is { Count: > 0 } items)
                {
                    html.Append("<ul>\n");
                    foreach (var item in items)
                    {
                        html.Append("<li>").Append(E(item)).Append("</li>\n");
                    }

                    html.Append("</ul>\n");
                }
            }
        }

        return html.Append("</body>\n</html>\n").ToString();
    }

    /// <summary>A Word document: the title, then each heading and its paragraphs and bulleted items.</summary>
    public byte[] Docx()
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var body = new Body();
            body.Append(Paragraph(Title, bold: true, size: 32));
            body.Append(Paragraph(Subtitle, italic: true));
            foreach (var section in Sections)
            {
                body.Append(Paragraph(section.Heading, bold: true, size: 26));
                foreach (var block in section.Blocks)
                {
                    if (block.Text is { } text)
                    {
                        body.Append(Paragraph(text));
                    }

                    foreach (var item in block.Items ?? [])
                    {
                        body.Append(Paragraph("• " + item));
                    }
                }
            }

            main.Document = new Document(body);
            main.Document.Save();
        }

        return stream.ToArray();

        static Paragraph Paragraph(string text, bool bold = false, bool italic = false, int size = 22)
        {
            var properties = new RunProperties(new FontSize { Val = size.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            if (bold)
            {
                properties.Append(new Bold());
            }

            if (italic)
            {
                properties.Append(new Italic());
            }

            return new Paragraph(new Run(properties, new Text(Formatting.SafeText.Clean(text, 20000)) { Space = SpaceProcessingModeValues.Preserve }));
        }
    }

    /// <summary>Every text of the document, for checks (what it says, and that no address is in it).</summary>
    public IEnumerable<string> Texts() =>
        new[] { Title, Subtitle }.Concat(Sections.SelectMany(s => new[] { s.Heading }.Concat(s.Blocks.SelectMany(b => (b.Text is null ? [] : new[] { b.Text }).Concat(b.Items ?? [])))));

    private static string E(string text) => WebUtility.HtmlEncode(Formatting.SafeText.Clean(text, 20000));

    /// <summary>What could start markup escaped (emphasis, code, HTML, tables, a link's "](", a heading's "#"), so text from a mailbox stays text; the rest left readable.</summary>
    private static string Escape(string text)
    {
        var clean = Formatting.SafeText.Clean(text, 20000);
        var escaped = new StringBuilder(clean.Length + 16);
        for (var i = 0; i < clean.Length; i++)
        {
            var c = clean[i];
            if (c is '\\' or '`' or '*' or '_' or '<' or '>' or '|' || (c == ']' && i + 1 < clean.Length && clean[i + 1] == '(') || (c is '#' or '-' or '+' && i == 0))
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }
}
