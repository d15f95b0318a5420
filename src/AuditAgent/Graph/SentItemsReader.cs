using System.Text.Json;
using AuditAgent.Core.Detection;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace AuditAgent.Graph;

/// <summary>One mailbox's answer inside a $batch: a page, or the error Graph gave for it.</summary>
public sealed record BatchedRead(DeltaPage? Page, Exception? Error);

/// <summary>One page of a mailbox's Sent Items delta.</summary>
/// <param name="NextLink">The @odata.nextLink, or the @odata.deltaLink on the round's last page.</param>
/// <param name="Malformed">Entries that could not be read as a message (counted, then skipped).</param>
/// <param name="Removed">@removed entries (deleted or changed messages): nothing to detect.</param>
public sealed record DeltaPage(IReadOnlyList<SentMessage> Messages, string NextLink, bool RoundComplete, int Malformed, int Removed);

/// <summary>
/// Reads Sent Items through the delta query with only the properties detection needs (these are all
/// within Mail.ReadBasic.All) and large pages, through the SDK's request builders, auth and retry
/// handlers. Each message is read on its own, so one malformed message (a wrong JSON type, or a sent
/// time that cannot be true) is counted and skipped instead of failing its page.
/// </summary>
/// <param name="retry">Transient failures of a whole read (and the waits of throttled $batch parts, on its clock).</param>
public sealed class SentItemsReader(GraphServiceClient client, GraphClock clock, TransientRetry retry, int pageSize, int maxRetryAfterSeconds)
{
    /// <summary>Graph's limit of requests in one $batch.</summary>
    public const int BatchLimit = GraphBatch.Limit;

    internal static readonly string[] Properties =
    [
        "id", "internetMessageId", "conversationId", "subject", "sentDateTime", "receivedDateTime",
        "from", "sender", "toRecipients", "ccRecipients", "bccRecipients",
    ];

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new()
    {
        ["XXX"] = ODataError.CreateFromDiscriminatorValue,
    };

    /// <param name="link">The stored nextLink/deltaLink, or null to start a new sync of the window.</param>
    public Task<DeltaPage> ReadAsync(Mailbox mailbox, string? link, DateTimeOffset since, CancellationToken ct) =>
        retry.RunAsync(() => ReadOnceAsync(mailbox, link, since, ct), ct);

    private async Task<DeltaPage> ReadOnceAsync(Mailbox mailbox, string? link, DateTimeOffset since, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        var delta = client.Users[mailbox.Id].MailFolders["sentitems"].Messages.Delta;
        var prefer = $"odata.maxpagesize={pageSize}";
        var request = link is null
            ? delta.ToGetRequestInformation(rc =>
            {
                rc.QueryParameters.Select = Properties;
                rc.QueryParameters.Filter = $"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
                rc.Headers.Add("Prefer", prefer);
            })
            : delta.WithUrl(link).ToGetRequestInformation(rc => rc.Headers.Add("Prefer", prefer));

        await using var stream = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, ErrorMapping, ct)
            ?? throw new InvalidDataException("Graph returned an empty delta page.");
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        return Parse(mailbox, document.RootElement, clock.Now);
    }

    /// <summary>
    /// Reads the stored delta links of many mailboxes through $batch (<see cref="GraphBatch"/>): a mailbox with no
    /// new mail costs a twentieth of a request. A mailbox missing from the result is read on its own.
    /// </summary>
    /// <returns>Per mailbox id: the page, or the error Graph answered (a 410 is an <see cref="ODataError"/>).</returns>
    public async Task<IReadOnlyDictionary<string, BatchedRead>> ReadManyAsync(IReadOnlyList<(Mailbox Mailbox, string Link)> reads, int parallelBatches, int maxAttempts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reads);
        var byId = reads.ToDictionary(r => r.Mailbox.Id, r => r.Mailbox, StringComparer.Ordinal);
        var answers = await new GraphBatch(client, retry, maxRetryAfterSeconds).GetAsync(
            reads.Select(r => (r.Mailbox.Id, (Func<HttpRequestMessage>)(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, r.Link);
                request.Headers.Add("Prefer", $"odata.maxpagesize={pageSize}");
                return request;
            }))).ToList(),
            (id, root) => Parse(byId[id], root, clock.Now),
            parallelBatches,
            maxAttempts,
            ct);
        return answers.ToDictionary(a => a.Key, a => new BatchedRead(a.Value.Value, a.Value.Error), StringComparer.Ordinal);
    }

    /// <summary>A delta page from its JSON: each message read on its own, malformed ones counted.</summary>
    /// <param name="now">The clock the sent times are checked against (<see cref="SentTimes"/>).</param>
    internal static DeltaPage Parse(Mailbox mailbox, JsonElement root, DateTimeOffset now)
    {
        var messages = new List<SentMessage>();
        int malformed = 0, removed = 0;
        if (root.TryGetProperty("value"u8, out var value) && value.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in value.EnumerateArray())
            {
                if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("@removed"u8, out _))
                {
                    removed++;
                    continue;
                }

                if (TryRead(mailbox, element) is { } message && (message.SentDateTime is not { } sent || SentTimes.IsPlausible(sent, now)))
                {
                    messages.Add(message);
                }
                else
                {
                    malformed++;
                }
            }
        }

        var next = String(root, "@odata.nextLink"u8);
        var deltaLink = String(root, "@odata.deltaLink"u8);
        if (next is null && deltaLink is null)
        {
            throw new InvalidDataException("Graph returned a delta page with neither @odata.nextLink nor @odata.deltaLink.");
        }

        return new DeltaPage(messages, next ?? deltaLink!, next is null, malformed, removed);
    }

    /// <summary>
    /// Reads one message straight from its JSON with Graph's property names. This is the scan's hot
    /// path: reading the SDK's full Message model cost ten times as much per message. Anything of the
    /// wrong JSON type makes the message malformed (counted, skipped) rather than silently empty.
    /// </summary>
    private static SentMessage? TryRead(Mailbox mailbox, JsonElement m)
    {
        if (m.ValueKind != JsonValueKind.Object
            || !TryText(m, "id"u8, out var id) || string.IsNullOrWhiteSpace(id)
            || !TryText(m, "internetMessageId"u8, out var internetMessageId)
            || !TryText(m, "conversationId"u8, out var conversationId)
            || !TryText(m, "subject"u8, out var subject)
            || !TryDate(m, "sentDateTime"u8, out var sent)
            || !TryDate(m, "receivedDateTime"u8, out var received)
            || !TryRecipient(m, "from"u8, out var from)
            || !TryRecipient(m, "sender"u8, out var sender)
            || !TryRecipients(m, "toRecipients"u8, out var to)
            || !TryRecipients(m, "ccRecipients"u8, out var cc)
            || !TryRecipients(m, "bccRecipients"u8, out var bcc))
        {
            return null;
        }

        return new SentMessage(mailbox.Id, mailbox.Address, id, internetMessageId, conversationId, subject, sent ?? received, from, sender, to, cc, bcc);
    }

    private static bool TryText(JsonElement o, ReadOnlySpan<byte> name, out string? value)
    {
        value = null;
        if (!o.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (p.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        value = p.GetString();
        return true;
    }

    private static bool TryDate(JsonElement o, ReadOnlySpan<byte> name, out DateTimeOffset? value)
    {
        value = null;
        if (!TryText(o, name, out var text))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool TryRecipient(JsonElement o, ReadOnlySpan<byte> name, out Core.Detection.Recipient? value)
    {
        value = null;
        if (!o.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        return TryRecipientValue(p, out value);
    }

    private static bool TryRecipientValue(JsonElement p, out Core.Detection.Recipient? value)
    {
        value = null;
        if (p.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (!p.TryGetProperty("emailAddress"u8, out var email) || email.ValueKind == JsonValueKind.Null)
        {
            value = new Core.Detection.Recipient(null, null);
            return true;
        }

        if (email.ValueKind != JsonValueKind.Object || !TryText(email, "address"u8, out var address) || !TryText(email, "name"u8, out var display))
        {
            return false;
        }

        value = new Core.Detection.Recipient(address, display);
        return true;
    }

    private static bool TryRecipients(JsonElement o, ReadOnlySpan<byte> name, out IReadOnlyList<Core.Detection.Recipient> value)
    {
        value = [];
        if (!o.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (p.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var list = new List<Core.Detection.Recipient>(p.GetArrayLength());
        foreach (var item in p.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (!TryRecipientValue(item, out var recipient))
            {
                return false;
            }

            list.Add(recipient!);
        }

        value = list;
        return true;
    }

    private static string? String(JsonElement root, ReadOnlySpan<byte> name) =>
        root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
