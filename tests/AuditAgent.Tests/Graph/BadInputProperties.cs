using AuditAgent.Cli;
using AuditAgent.Core.Detection;
using AuditAgent.Formatting;
using AuditAgent.Graph;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FsCheck;

namespace AuditAgent.Tests.Graph;

/// <summary>
/// Property-based tests on what comes from Graph: any recipients, any JSON shape, any subject. Nothing
/// throws, nothing is silently dropped, and no output can be broken by the content.
/// </summary>
public class BadInputProperties
{
    private static readonly InternalDomains Contoso = new(["contoso.com"]);

    /// <summary>Strings a mailbox can really hold: addresses, near-addresses, markup, control characters, nothing.</summary>
    private static Gen<string?> Texts() => Gen.OneOf(
        Gen.Constant<string?>(null),
        Gen.Elements<string?>("", " ", "@", "a@", "@b.com", "a@@b.com", "undisclosed-recipients", "<x@y.com>", "SMTP:X@Y.COM",
            "jürgen@bücher.de", "a@xn--bcher-kva.de", "/o=ExchangeLabs/cn=x", "x@contoso.com", "y@eu.contoso.com", "<script>alert(1)</script>",
            "\u202Eevil@gmail.com", "a\u0007b@c.com", "  Mixed@Case.Com "),
        ArbMap.Default.GeneratorFor<string>().Select(s => (string?)s),
        ArbMap.Default.GeneratorFor<NonNegativeInt>().Select(n => (string?)$"p{n.Get % 50}@d{n.Get % 7}.com"));

    private static Gen<Recipient> Recipients() => Texts().Zip(Texts()).Select(t => new Recipient(t.Item1, t.Item2));

    [Property(MaxTest = 300)]
    public Property Detect_AnyRecipients_NeverThrows_AndCountsAddUp() =>
        Prop.ForAll(
            Recipients().ListOf().ToArbitrary(),
            Recipients().ListOf().ToArbitrary(),
            Recipients().ListOf().ToArbitrary(),
            (to, cc, bcc) =>
            {
                var message = new SentMessage("m", "sender@contoso.com", "id", null, null, null, null, null, null, [.. to], [.. cc], [.. bcc]);
                var result = ExposureDetector.Detect(message, Contoso, new DetectionRules(2));
                var valid = to.Concat(cc).Concat(bcc).Count(r => EmailAddress.TryParse(r.Address, out _));
                var total = to.Count + cc.Count + bcc.Count;
                return result.UnresolvableRecipients == total - valid
                    && (result.Finding is null || (result.Finding.VisibleExternalCount >= 2
                        && result.Finding.VisibleExternal.Select(r => r.Address).Distinct().Count() == result.Finding.VisibleExternalCount
                        && result.Finding.VisibleExternal.All(r => !Contoso.Contains(r.Domain))));
            });

    /// <summary>JSON values of every type where Graph puts strings, objects and arrays.</summary>
    private static Gen<string> JsonValues() => Gen.Elements(
        "null", "1", "true", "\"text\"", "{}", "[]", "[1,2]", "{\"emailAddress\":null}", "{\"emailAddress\":{\"address\":7}}",
        "[{\"emailAddress\":{\"address\":\"a@b.com\",\"name\":\"<b>A</b>\"}}]", "[null]", "\"2026-11-01T10:00:00Z\"", "\"not a date\"");

    [Property(MaxTest = 300)]
    public Property ReadPage_AnyMessageShape_NeverThrows_AndEveryEntryIsCounted_OnBothReadings() =>
        Prop.ForAll(
            Gen.Elements("id", "subject", "sentDateTime", "from", "toRecipients", "ccRecipients", "bccRecipients", "internetMessageId", "unknownProperty")
                .Zip(JsonValues()).ListOf().ListOf().ToArbitrary(),
            messages =>
            {
                var values = messages.Select((fields, i) =>
                    "{" + string.Join(",", fields.DistinctBy(f => f.Item1).Select(f => $"\"{f.Item1}\":{f.Item2}").Prepend($"\"id\":\"m{i}\"")) + "}");
                var json = $"{{\"value\":[{string.Join(",", values)}],\"@odata.deltaLink\":\"https://graph/delta\"}}";
                var utf8 = System.Text.Encoding.UTF8.GetBytes(json);
                var mailbox = new Mailbox("u", "u@contoso.com", null);
                // Both readings: the whole one, and the scan's, which counts plain messages as it reads them.
                var whole = SentItemsReader.Parse(mailbox, utf8, DateTimeOffset.UtcNow);
                var screened = SentItemsReader.Parse(mailbox, utf8, DateTimeOffset.UtcNow, new MessageScreen(new InternalDomains(["contoso.com"]), new DetectionRules(2)));

                return whole.Messages.Count + whole.Malformed + whole.Removed == messages.Count
                    && (screened.Messages.Count, screened.Malformed, screened.Removed) == (whole.Messages.Count, whole.Malformed, whole.Removed);
            });

    [Property(MaxTest = 300)]
    public Property TerminalText_HasNoControlOrBidiCharacters(string? text) =>
        SafeText.ForTerminal(text, 200).All(c => !char.IsControl(c) && c is not ('\u202E' or '\u202D' or '\u2066' or '\u2067' or '\u2068' or '\u2069')).ToProperty();
}
