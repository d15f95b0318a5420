using System.Buffers;
using System.Text.Json;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Protection;
using AuditAgent.Storage;

namespace AuditAgent.Scanning;

/// <summary>
/// What one page of a mailbox's round gives the single writer: its findings with their recipients sealed, its Bcc
/// mailings with their recipients' keys, and a count row per message. Made by the readers, in parallel, so that the
/// writer only writes.
/// </summary>
/// <param name="Conflicting">Messages skipped because their Graph id came earlier in the round with other recipients.</param>
/// <param name="Unresolvable">Recipients without a usable address.</param>
internal sealed record PageWork(List<FindingWrite> Findings, List<BccWrite> BccMessages, List<StatsWrite> Counts, int Conflicting, int Unresolvable)
{
    /// <param name="seen">Each message id of the round with its recipients (the same id again with other recipients is skipped and counted).</param>
    public static PageWork Of(
        DeltaPage page,
        Mailbox mailbox,
        Dictionary<long, int> seen,
        InternalDomains internalDomains,
        DetectionRules rules,
        SensitivityRules sensitivity,
        RecipientCipher cipher,
        TimeProvider time)
    {
        var findings = new List<FindingWrite>();
        var bccMessages = new List<BccWrite>();
        var counts = new List<StatsWrite>(page.Messages.Count);
        var conflicting = 0;
        var unresolvable = 0;
        foreach (var entry in page.Messages)
        {
            if (seen.TryGetValue(entry.Key, out var earlier) && earlier != entry.Recipients)
            {
                conflicting++;
                continue;
            }

            seen[entry.Key] = entry.Recipients;
            var (messageCounts, messageUnresolvable) = (entry.Counts, entry.Unresolvable);
            if (entry.Message is { } message)
            {
                // Read whole: maybe a finding or a Bcc mailing (the rest the reader counted as it read them).
                var result = ExposureDetector.Detect(message, internalDomains, rules);
                (messageCounts, messageUnresolvable) = (result.Counts, result.UnresolvableRecipients);
                if (result.Finding is not null)
                {
                    // What the list reveals is judged here: recipients' names are sealed once stored.
                    var finding = result.Finding with { Sensitive = sensitivity.Assess(message, mailbox.DisplayName, mailbox.Department) };
                    findings.Add(new FindingWrite(finding, cipher.Protect(finding)));
                }
                else if (result.BccMessage is { } b)
                {
                    bccMessages.Add(new BccWrite(b.MailboxId, b.GraphMessageId, b.SenderAddress, b.SentDateTime, b.ExternalBcc.Count, cipher.KeysOf(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', b.ExternalBcc)))));
                }
            }
            else if (entry.Bcc is { } bcc)
            {
                // A Bcc mailing the reader counted: its recipients come normalised, as UTF-8 lines.
                bccMessages.Add(new BccWrite(mailbox.Id, bcc.GraphMessageId, bcc.SenderAddress, entry.SentAt, bcc.Count, cipher.KeysOf(bcc.ExternalBcc)));
            }

            unresolvable += messageUnresolvable;
            counts.Add(new StatsWrite(entry.Key, entry.SentAt ?? time.GetUtcNow(), messageCounts));
        }

        return new PageWork(findings, bccMessages, counts, conflicting, unresolvable);
    }

    /// <summary>
    /// Compiles the page path: a made-up page (<see cref="MadeUpPage"/>) goes through everything a real one does on the
    /// readers' side. The scan runs it once, on a thread of its own, while it reads the directory; a fresh process
    /// otherwise compiled this path on the first mailboxes' way, every worker waiting for it (with it, the first of
    /// 1,000 mailboxes is done 0.66 to 0.72 s into the scan instead of 0.78 s). Nothing is stored or sent, and no key
    /// of the agent is used.
    /// </summary>
    /// <returns>What the made-up page gave (a test checks it went through every branch).</returns>
    public static PageWork WarmUp(DetectionRules rules, SensitivityRules sensitivity)
    {
        var domains = new InternalDomains([WarmUpDomain]);
        using var cipher = new RecipientCipher(KeyRing.Parse(KeyRing.NewKey(), "warm-up"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var mailbox = new Mailbox("warm-up", $"sender@{WarmUpDomain}", "Warm-up", Department: "Warm-up");
        var now = DateTimeOffset.UtcNow;
        var page = SentItemsReader.Parse(mailbox, MadeUpPage(rules.VisibleExternalThreshold, now.AddHours(-1)), now, new MessageScreen(domains, rules));
        return Of(page, mailbox, [], domains, rules, sensitivity, cipher, TimeProvider.System);
    }

    private const string WarmUpDomain = "warm-up.invalid";

    /// <summary>
    /// A delta page with one message of each kind: internal only, a finding (enough outside recipients in To and Cc),
    /// a Bcc mailing the reader counts, one it reads whole (an address only the full parser reads), and a removed one.
    /// </summary>
    internal static byte[] MadeUpPage(int threshold, DateTimeOffset sent)
    {
        var outside = Enumerable.Range(0, threshold + 1).Select(i => $"person{i}@example.org").ToArray();
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("@odata.deltaLink", $"https://graph.microsoft.com/v1.0/users/warm-up/mailFolders('sentitems')/messages/delta?$deltatoken=warm-up");
            json.WriteStartArray("value");
            Message(json, "internal", "Team meeting", sent, to: [$"colleague@{WarmUpDomain}"], cc: [], bcc: []);
            Message(json, "finding", "Elternabend Klasse 4b", sent, to: outside[..(outside.Length / 2)], cc: outside[(outside.Length / 2)..], bcc: []);
            Message(json, "mailing", "Newsletter", sent, to: [$"sender@{WarmUpDomain}"], cc: [], bcc: outside);
            Message(json, "mailing-whole", "Newsletter", sent, to: [$"sender@{WarmUpDomain}"], cc: [], bcc: [.. outside, "Jürgen@Example.org"]);
            json.WriteStartObject();
            json.WriteString("id", "removed");
            json.WriteStartObject("@removed");
            json.WriteString("reason", "deleted");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Message(Utf8JsonWriter json, string id, string subject, DateTimeOffset sent, string[] to, string[] cc, string[] bcc)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("internetMessageId", $"<{id}@{WarmUpDomain}>");
        json.WriteString("conversationId", id);
        json.WriteString("subject", subject);
        json.WriteString("sentDateTime", sent);
        json.WriteString("receivedDateTime", sent);
        Recipient(json, "from", $"sender@{WarmUpDomain}");
        Recipient(json, "sender", $"sender@{WarmUpDomain}");
        Recipients(json, "toRecipients", to);
        Recipients(json, "ccRecipients", cc);
        Recipients(json, "bccRecipients", bcc);
        json.WriteEndObject();
    }

    private static void Recipients(Utf8JsonWriter json, string name, string[] addresses)
    {
        json.WriteStartArray(name);
        foreach (var address in addresses)
        {
            Recipient(json, null, address);
        }

        json.WriteEndArray();
    }

    private static void Recipient(Utf8JsonWriter json, string? name, string address)
    {
        if (name is null)
        {
            json.WriteStartObject();
        }
        else
        {
            json.WriteStartObject(name);
        }

        json.WriteStartObject("emailAddress");
        json.WriteString("name", address[..address.IndexOf('@')]);
        json.WriteString("address", address);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
