using System.Text;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace AuditAgent.Notifications;

/// <summary>
/// The text part of a mail from the same Markdown document as its HTML part: headings and paragraphs as lines,
/// list items with "- ", emphasis without its marks, a link as "label: url", a rule as a blank line.
/// </summary>
internal static class PlainText
{
    public static string Of(MarkdownDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = new StringBuilder();
        foreach (var block in document)
        {
            Block(text, block, "");
        }

        return text.ToString().TrimEnd() + "\n";
    }

    private static void Block(StringBuilder text, Block block, string indent)
    {
        switch (block)
        {
            case HeadingBlock heading:
                text.Append(indent);
                Inlines(text, heading.Inline);
                text.Append('\n').Append('\n');
                break;
            case ParagraphBlock paragraph:
                text.Append(indent);
                Inlines(text, paragraph.Inline);
                text.Append('\n');
                if (indent.Length == 0)
                {
                    text.Append('\n');
                }

                break;
            case ListBlock list:
                foreach (var item in list.OfType<ListItemBlock>())
                {
                    text.Append(indent).Append("- ");
                    var first = true;
                    foreach (var inner in item)
                    {
                        Block(text, inner, first ? "" : indent + "  ");
                        first = false;
                    }
                }

                text.Append('\n');
                break;
            case ThematicBreakBlock:
                text.Append('\n');
                break;
            case ContainerBlock container:
                foreach (var inner in container)
                {
                    Block(text, inner, indent);
                }

                break;
            case LeafBlock leaf:
                text.Append(indent);
                Inlines(text, leaf.Inline);
                text.Append('\n');
                break;
        }
    }

    private static void Inlines(StringBuilder text, ContainerInline? inlines)
    {
        for (var inline = inlines?.FirstChild; inline is not null; inline = inline.NextSibling)
        {
            switch (inline)
            {
                case LinkInline link:
                    var label = new StringBuilder();
                    Inlines(label, link);
                    text.Append(label).Append(": ").Append(link.Url);
                    break;
                case LiteralInline literal:
                    text.Append(literal.Content);
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case LineBreakInline:
                    text.Append('\n');
                    break;
                case HtmlEntityInline entity:
                    text.Append(entity.Transcoded);
                    break;
                case ContainerInline container:
                    Inlines(text, container);
                    break;
            }
        }
    }
}
