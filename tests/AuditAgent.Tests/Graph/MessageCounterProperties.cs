using System.Text.Encodings.Web;
using System.Text.Json;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditAgent.Tests.Graph;

/// <summary>
/// The scan's fast path (<see cref="MessageCounter"/>) against the whole reading and the detector: for any page, every
/// message gets the same key, recipients fingerprint, sent time, counts and unresolvable recipients whichever path
/// it takes, and every finding and Bcc mailing is read whole.
/// </summary>
public class MessageCounterProperties
{
    private static readonly Mailbox Sender = new("u1", "Ann.Sender@Contoso.com", "Ann");
    private static readonly MessageScreen Screen = new(new InternalDomains(["contoso.com", "fabrikam.onmicrosoft.com"]), new DetectionRules(3));
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Addresses as Graph gives them: plain and internal, the sender's own, odd case and white space, IDN, escapes, nothing.</summary>
    private static Gen<string?> Addresses() => Gen.OneOf(
        Gen.Elements<string?>(
            null, "", " ", "undisclosed-recipients", "/o=ExchangeLabs/cn=abc", "ann.sender@contoso.com", "ANN.SENDER@CONTOSO.COM",
            "  Bob@Partner.example ", "jürgen@bücher.de", "x@bücher.de", "x@xn--bcher-kva.de", "SMTP:eve@partner.example", "<eve@partner.example>",
            "o'brien+news@partner.example", "a&b@partner.example", "team@eu.contoso.com", "it@fabrikam.onmicrosoft.com", "a@@b.example", "a@b",
            "a@b.example.", "\"q@x\"@partner.example", "tab\t@x.example"),
        Gen.Choose(0, 40).Zip(Gen.Choose(0, 5)).Select(t => (string?)$"p{t.Item1}@d{t.Item2}.example"),
        Gen.Choose(0, 40).Select(n => (string?)$"P{n}@D{n % 3}.Example"));

    private static Gen<(string? Address, string? Name)> Recipients() =>
        Addresses().Zip(Gen.Elements<string?>(null, "", "Name", "Zoë <z>", "a \"quoted\" one"));

    private static Gen<JsonMessage> Messages() =>
        from to in Recipients().ListOf()
        from cc in Recipients().ListOf()
        from bcc in Recipients().ListOf()
        from many in Gen.Choose(0, 6)
        from manyBcc in Gen.Choose(0, 6)
        from fromAddress in Gen.Elements<string?>(null, "ann.sender@contoso.com", "Shared@Contoso.com", "  other@partner.example", "jürgen@bücher.de")
        from senderAddress in Gen.Elements<string?>(null, "ann.sender@contoso.com", "p1@d1.example")
        from sent in Gen.Elements<string?>(null, "2026-11-01T10:00:00Z", "2026-11-01T10:00:00.1234567Z", "1970-01-01T00:00:00Z", "not a date")
        from received in Gen.Elements<string?>("2026-11-02T08:00:00Z", null)
        from id in Gen.Elements("AAMkAD1=", "AAMkAD+/2=", "AAMkAD3", "AAMkAD1=")
        from extra in Gen.Elements("", "\"subject\":7,", "\"toRecipients\":[],", "\"@removed\":{\"reason\":\"deleted\"},", "\"unknown\":{\"a\":[1,{}]},")
        select new JsonMessage(id, fromAddress, senderAddress, sent, received, [.. to, .. Many(many)], cc, [.. bcc, .. Many(manyBcc)], extra);

    /// <summary>Enough outside people in To to make a finding now and then.</summary>
    private static IEnumerable<(string?, string?)> Many(int n) => Enumerable.Range(0, n).Select(i => ((string?)$"m{i}@many.example", (string?)null));

    [Property(MaxTest = 400)]
    public Property FastPath_CountsEveryMessageAsTheDetectorDoes() =>
        Prop.ForAll(Messages().ListOf().ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (messages, relaxed) =>
        {
            var json = Page(messages, relaxed);
            var screened = SentItemsReader.Parse(Sender, json, Now, Screen);
            var whole = SentItemsReader.Parse(Sender, json, Now);

            var difference = screened.Messages.Count == whole.Messages.Count && screened.Malformed == whole.Malformed && screened.Removed == whole.Removed
                ? null
                : $"counts of the page: {screened.Messages.Count}/{screened.Malformed}/{screened.Removed} against {whole.Messages.Count}/{whole.Malformed}/{whole.Removed}";
            for (var i = 0; difference is null && i < whole.Messages.Count; i++)
            {
                var (fast, slow) = (screened.Messages[i], whole.Messages[i]);
                var detected = ExposureDetector.Detect(slow.Message!, Screen.InternalDomains, Screen.Rules);
                var counted = fast.Message is null ? (fast.Counts, fast.Unresolvable) : Detected(fast.Message);
                difference =
                    fast.Key != slow.Key ? "key"
                    : fast.Recipients != slow.Recipients ? "recipients fingerprint"
                    : fast.SentAt != slow.SentAt ? "sent time"
                    : counted != (detected.Counts, detected.UnresolvableRecipients) ? $"counts {counted} against {(detected.Counts, detected.UnresolvableRecipients)}"
                    : fast.Message is null && detected.Finding is not null ? "a finding only counted"
                    : fast.Message is null && Describe(fast.Bcc) != Describe(detected.BccMessage) ? $"Bcc mailing {Describe(fast.Bcc)} against {Describe(detected.BccMessage)}"
                    : null;
                difference = difference is null ? null : $"message {i}: {difference}";
            }

            var same = difference is null;
            return same.Label($"{difference} in {System.Text.Encoding.UTF8.GetString(json)}");
        });

    [Fact]
    public void FastPath_CountsPlainMailWithoutReadingItWhole()
    {
        var plain = new JsonMessage("AAMkAD1=", "ann.sender@contoso.com", null, "2026-11-01T10:00:00Z", null,
            [("bob@partner.example", "Bob"), ("  BOB@Partner.Example ", null), ("team@eu.contoso.com", "Team"), (null, "Group")], [("x@bücher.de", null)], [("b1@partner.example", null)], "");
        var finding = plain with { Id = "AAMkAD2=", To = [.. plain.To, .. Many(3)] };

        var page = SentItemsReader.Parse(Sender, Page([plain, finding], relaxed: false), Now, Screen);

        Assert.Null(page.Messages[0].Message);
        Assert.Equal(new MessageCounts(VisibleExternal: 2, External: 3, All: 4, ExternalDomains: 2, Bcc: 1), page.Messages[0].Counts);
        Assert.Equal(1, page.Messages[0].Unresolvable);
        Assert.NotNull(page.Messages[1].Message);
    }

    [Fact]
    public void FastPath_RecordsABccMailingWithItsOutsideRecipientsInOrder()
    {
        var newsletter = new JsonMessage("AAMkAD3=", "  Ann.Sender@Contoso.com", null, "2026-11-01T10:00:00Z", null, [("ann.sender@contoso.com", "Ann")], [],
            [("Zed@Partner.example", "Zed"), ("team@contoso.com", null), ("a@partner.example", null), ("zed@partner.example", null), ("b@x.example", null)], "");

        var page = SentItemsReader.Parse(Sender, Page([newsletter], relaxed: false), Now, Screen);

        Assert.Null(page.Messages[0].Message);
        var bcc = Assert.IsType<BccMailing>(page.Messages[0].Bcc);
        Assert.Equal(("AAMkAD3=", "ann.sender@contoso.com", 3), (bcc.GraphMessageId, bcc.SenderAddress, bcc.Count));
        Assert.Equal("zed@partner.example\na@partner.example\nb@x.example", System.Text.Encoding.UTF8.GetString(bcc.ExternalBcc));
    }

    /// <summary>A Bcc mailing as it is recorded: id, sender, outside recipients in order.</summary>
    private static string? Describe(BccMailing? bcc) =>
        bcc is null ? null : $"{bcc.GraphMessageId} from {bcc.SenderAddress}: {System.Text.Encoding.UTF8.GetString(bcc.ExternalBcc)} ({bcc.Count})";

    private static string? Describe(BccMessage? bcc) =>
        bcc is null ? null : $"{bcc.GraphMessageId} from {bcc.SenderAddress}: {string.Join('\n', bcc.ExternalBcc)} ({bcc.ExternalBcc.Count})";

    private static (MessageCounts, int) Detected(SentMessage message)
    {
        var result = ExposureDetector.Detect(message, Screen.InternalDomains, Screen.Rules);
        return (result.Counts, result.UnresolvableRecipients);
    }

    private static byte[] Page(IEnumerable<JsonMessage> messages, bool relaxed)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = relaxed ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : JavaScriptEncoder.Default }))
        {
            w.WriteStartObject();
            w.WriteStartArray("value");
            foreach (var m in messages)
            {
                w.WriteStartObject();
                w.WriteString("id", m.Id);
                w.WriteString("subject", "Hello");
                Text(w, "sentDateTime", m.Sent);
                Text(w, "receivedDateTime", m.Received);
                Recipient(w, "from", m.From);
                Recipient(w, "sender", m.Sender);
                List(w, "toRecipients", m.To);
                List(w, "ccRecipients", m.Cc);
                List(w, "bccRecipients", m.Bcc);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("@odata.deltaLink", "https://graph.microsoft.com/v1.0/delta?token=1");
            w.WriteEndObject();
        }

        var json = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        // The odd extra property goes in as raw JSON, first in each message.
        var extras = messages.Select(m => m.Extra).ToList();
        var at = 0;
        foreach (var extra in extras)
        {
            at = json.IndexOf("{\"id\"", at, StringComparison.Ordinal);
            json = json.Insert(at + 1, extra);
            at += extra.Length + 1;
        }

        return System.Text.Encoding.UTF8.GetBytes(json);
    }

    private static void Text(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void Recipient(Utf8JsonWriter w, string name, string? address)
    {
        w.WritePropertyName(name);
        if (address is null)
        {
            w.WriteNullValue();
            return;
        }

        RecipientValue(w, (address, null));
    }

    private static void RecipientValue(Utf8JsonWriter w, (string? Address, string? Name) r)
    {
        w.WriteStartObject();
        w.WriteStartObject("emailAddress");
        Text(w, "name", r.Name);
        Text(w, "address", r.Address);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void List(Utf8JsonWriter w, string name, IEnumerable<(string?, string?)> recipients)
    {
        w.WriteStartArray(name);
        foreach (var r in recipients)
        {
            RecipientValue(w, r);
        }

        w.WriteEndArray();
    }

    public sealed record JsonMessage(string Id, string? From, string? Sender, string? Sent, string? Received,
        IReadOnlyList<(string? Address, string? Name)> To, IReadOnlyList<(string? Address, string? Name)> Cc, IReadOnlyList<(string? Address, string? Name)> Bcc, string Extra);
}
