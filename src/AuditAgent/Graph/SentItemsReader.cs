using System.Text.Json;
using AuditAgent.Core.Detection;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace AuditAgent.Graph;

/// <summary>One mailbox's answer inside a $batch: a page, or the error Graph gave for it.</summary>
public sealed record BatchedRead(DeltaPage? Page, Exception? Error);

/// <summary>
/// One message of a delta page. A message detection must see whole (it may be a finding, or something in it needs the
/// full reading or the detector's parser) comes as <see cref="Message"/>, to be detected; the rest were counted by the
/// reader (<see cref="MessageCounter"/>) and come as their <see cref="Counts"/>, with <see cref="Bcc"/> for a Bcc mailing.
/// </summary>
/// <param name="Key">The id's <see cref="MessageKey"/>.</param>
/// <param name="Recipients">A fingerprint of its To, Cc and Bcc addresses (a replayed copy has the same).</param>
/// <param name="SentAt">sentDateTime, or receivedDateTime when Graph gave none.</param>
/// <param name="Counts">Set when <see cref="Message"/> is null.</param>
/// <param name="Unresolvable">Recipients without a usable address; set when <see cref="Message"/> is null.</param>
/// <param name="Bcc">A Bcc mailing the reader counted (never set with <see cref="Message"/>).</param>
public readonly record struct PageMessage(long Key, int Recipients, DateTimeOffset? SentAt, SentMessage? Message, MessageCounts Counts, int Unresolvable, BccMailing? Bcc = null)
{
    public static PageMessage Whole(SentMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var fingerprint = new RecipientsFingerprint();
        foreach (var list in (ReadOnlySpan<IReadOnlyList<Recipient>>)[message.To, message.Cc, message.Bcc])
        {
            fingerprint.AddCount(list.Count);
            foreach (var r in list)
            {
                fingerprint.Add(r.Address);
            }
        }

        return new PageMessage(MessageKey.Of(message.GraphMessageId), fingerprint.Value, message.SentDateTime, message, default, 0);
    }
}

/// <summary>The properties a message is read for (the $select), and @removed; Other for the rest.</summary>
internal enum MessageProperty
{
    Other = -1,
    Id,
    InternetMessageId,
    ConversationId,
    Subject,
    SentDateTime,
    ReceivedDateTime,
    From,
    Sender,
    ToRecipients,
    CcRecipients,
    BccRecipients,
    Removed,
}

/// <summary>One page of a mailbox's Sent Items delta.</summary>
/// <param name="NextLink">The @odata.nextLink, or the @odata.deltaLink on the round's last page.</param>
/// <param name="Malformed">Entries that could not be read as a message (counted, then skipped).</param>
/// <param name="Removed">@removed entries (deleted or changed messages): nothing to detect.</param>
public sealed record DeltaPage(IReadOnlyList<PageMessage> Messages, string NextLink, bool RoundComplete, int Malformed, int Removed);

/// <summary>
/// Reads Sent Items through the delta query with only the properties detection needs (these are all
/// within Mail.ReadBasic.All) and large pages, through the SDK's request builders, auth and retry
/// handlers. Each message is read on its own, so one malformed message (a wrong JSON type, or a sent
/// time that cannot be true) is counted and skipped instead of failing its page.
/// </summary>
/// <param name="retry">Transient failures of a whole read (and the waits of throttled $batch parts, on its clock).</param>
/// <param name="screen">When set, plain messages that are not findings are counted as they are read (<see cref="MessageCounter"/>).</param>
public sealed class SentItemsReader(GraphServiceClient client, GraphClock clock, TransientRetry retry, int pageSize, int maxRetryAfterSeconds, MessageScreen? screen = null)
{
    private readonly string _prefer = PreferPageSize(pageSize);

    /// <summary>The Prefer header that asks Graph for pages of <paramref name="pageSize"/> messages.</summary>
    public static string PreferPageSize(int pageSize) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"odata.maxpagesize={pageSize}");

    /// <summary>Graph's limit of requests in one $batch.</summary>
    public const int BatchLimit = GraphBatch.Limit;

    internal static readonly string[] Properties =
    [
        "id", "internetMessageId", "conversationId", "subject", "sentDateTime", "receivedDateTime",
        "from", "sender", "toRecipients", "ccRecipients", "bccRecipients",
    ];

    /// <param name="link">The stored nextLink/deltaLink, or null to start a new sync of the window.</param>
    public Task<DeltaPage> ReadAsync(Mailbox mailbox, string? link, DateTimeOffset since, CancellationToken ct) =>
        retry.RunAsync(() => ReadOnceAsync(mailbox, link, since, ct), ct);

    private async Task<DeltaPage> ReadOnceAsync(Mailbox mailbox, string? link, DateTimeOffset since, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        // The builder is made from the URL (not walked to from the client, a builder and its parameters per step) and
        // the header added to the request, not through a configuration callback: the SDK reads a callback's query
        // parameters through reflection, even when there are none.
        var url = link ?? FirstPageUrl(client.RequestAdapter.BaseUrl!, mailbox.Id, since);
        var request = new Microsoft.Graph.Users.Item.MailFolders.Item.Messages.Delta.DeltaRequestBuilder(url, client.RequestAdapter).ToGetRequestInformation();
        request.Headers.Add("Prefer", _prefer);
        request.AddRequestOptions(NoNameDecoding);

        await using var stream = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, GraphErrors.Mapping, ct)
            ?? throw new InvalidDataException("Graph returned an empty delta page.");
        var (buffer, length) = await ReadAllAsync(stream, ct);
        try
        {
            return Parse(mailbox, buffer.AsSpan(0, length), clock.Now, screen);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A new sync's first page: the URL the SDK sends for the delta query with <see cref="Properties"/> and the window's
    /// filter (a test holds the two equal), made here because the SDK's request builder reads query parameters through
    /// reflection and expands a URI template on every mailbox's first page (a 20,000-mailbox scan's profile showed both).
    /// "$filter" and "$select" are written as they go on the wire, where the builder writes "%24filter" and the SDK's
    /// name-decoding handler turns it back; every later page's URL is a link Graph gave. So that handler has nothing to
    /// do for a page and is skipped (<see cref="NoNameDecoding"/>): it parsed and rebuilt every page's URL.
    /// </summary>
    internal static string FirstPageUrl(string baseUrl, string mailboxId, DateTimeOffset since) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{baseUrl}/users/{Uri.EscapeDataString(mailboxId)}/mailFolders/sentitems/messages/delta()?$filter={Uri.EscapeDataString($"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}")}&$select={SelectList}");

    private static readonly Microsoft.Kiota.Abstractions.IRequestOption[] NoNameDecoding =
        [new Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options.ParametersNameDecodingOption { Enabled = false }];

    private static readonly string SelectList = string.Join(',', Properties.Select(Uri.EscapeDataString));

    /// <summary>The whole body in a pooled buffer (a page is about 190 KB: no large-object allocation per page).</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadAllAsync(Stream stream, CancellationToken ct)
    {
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var buffer = pool.Rent(256 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = pool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    pool.Return(buffer);
                    buffer = bigger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
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
        var answers = await new GraphBatch(client, retry, maxRetryAfterSeconds).GetUtf8Async(
            reads.Select(r => (r.Mailbox.Id, (Func<HttpRequestMessage>)(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, r.Link);
                request.Headers.Add("Prefer", _prefer);
                return request;
            }))).ToList(),
            (id, utf8) => Parse(byId[id], utf8, clock.Now, screen),
            parallelBatches,
            maxAttempts,
            ct);
        return answers.ToDictionary(a => a.Key, a => new BatchedRead(a.Value.Value, a.Value.Error), StringComparer.Ordinal);
    }

    /// <summary>
    /// A delta page from its JSON, read forward once (the scan's hot path: no document is built and a string is made
    /// only for what a message keeps). Each message is read on its own: anything of the wrong JSON type makes that
    /// message malformed (counted, skipped), never the page; JSON that is not JSON fails the page (read again).
    /// </summary>
    /// <param name="now">The clock the sent times are checked against (<see cref="SentTimes"/>).</param>
    /// <param name="screen">When set, plain messages that are not findings are only counted (Bcc mailings with their recipients).</param>
    internal static DeltaPage Parse(Mailbox mailbox, ReadOnlySpan<byte> json, DateTimeOffset now, MessageScreen? screen = null)
    {
        // A message takes a kilobyte or more of a page ($select of eleven properties): one allocation for most pages.
        var messages = new List<PageMessage>(Math.Clamp(json.Length / 1024, 4, 1024));
        var counter = screen is null ? null : MessageCounter.For(mailbox, screen);
        var options = new JsonReaderOptions { MaxDepth = 64 };
        int malformed = 0, removed = 0;
        string? next = null, deltaLink = null;
        var reader = new Utf8JsonReader(json, options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("Graph returned a delta page that is not a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("value"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    switch (ReadEntry(ref reader, json, options, mailbox, counter, out var read))
                    {
                        case Entry.Message when read.SentAt is not { } sent || SentTimes.IsPlausible(sent, now):
                            messages.Add(read);
                            break;
                        case Entry.Removed:
                            removed++;
                            break;
                        default:
                            malformed++;
                            break;
                    }
                }
            }
            else if (reader.ValueTextEquals("@odata.nextLink"u8))
            {
                next = ReadLink(ref reader);
            }
            else if (reader.ValueTextEquals("@odata.deltaLink"u8))
            {
                deltaLink = ReadLink(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Anything after the page's object is not JSON Graph sends: the reader throws on it, as a document would.
        reader.Read();
        if (next is null && deltaLink is null)
        {
            throw new InvalidDataException("Graph returned a delta page with neither @odata.nextLink nor @odata.deltaLink.");
        }

        return new DeltaPage(messages, next ?? deltaLink!, next is null, malformed, removed);
    }

    private enum Entry
    {
        Message,
        Removed,
        Malformed,
    }

    /// <summary>
    /// One entry of the page, read to its end: counted by the counter when it is plain, read whole otherwise (from its
    /// start again, as the counter leaves the page's reader at its end).
    /// </summary>
    private static Entry ReadEntry(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, JsonReaderOptions options, Mailbox mailbox, MessageCounter? counter, out PageMessage read)
    {
        if (counter is null || reader.TokenType != JsonTokenType.StartObject)
        {
            return ReadWhole(ref reader, mailbox, out read);
        }

        var start = (int)reader.TokenStartIndex;
        if (counter.TryCount(ref reader, out read))
        {
            return Entry.Message;
        }

        var whole = new Utf8JsonReader(json[start..(int)reader.BytesConsumed], options);
        whole.Read();
        return ReadWhole(ref whole, mailbox, out read);

        static Entry ReadWhole(ref Utf8JsonReader reader, Mailbox mailbox, out PageMessage read)
        {
            var entry = ReadMessage(ref reader, mailbox, out var message);
            read = entry == Entry.Message ? PageMessage.Whole(message!) : default;
            return entry;
        }
    }

    private static string? ReadLink(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    /// <summary>
    /// One entry of the page, read to its end whatever it holds. With Graph's property names; a property of the wrong
    /// JSON type makes the message malformed (a later good copy of the same property wins, as in a document).
    /// </summary>
    private static Entry ReadMessage(ref Utf8JsonReader reader, Mailbox mailbox, out SentMessage? message)
    {
        message = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return Entry.Malformed;
        }

        string? id = null, internetMessageId = null, conversationId = null, subject = null, sentText = null, receivedText = null;
        Core.Detection.Recipient? from = null, sender = null;
        IReadOnlyList<Core.Detection.Recipient> to = [], cc = [], bcc = [];
        var bad = 0;
        var isRemoved = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            reader.Read();
            var ok = field switch
            {
                MessageProperty.Id => TryText(ref reader, out id),
                MessageProperty.InternetMessageId => TryText(ref reader, out internetMessageId),
                MessageProperty.ConversationId => TryText(ref reader, out conversationId),
                MessageProperty.Subject => TryText(ref reader, out subject),
                MessageProperty.SentDateTime => TryText(ref reader, out sentText),
                MessageProperty.ReceivedDateTime => TryText(ref reader, out receivedText),
                MessageProperty.From => TryRecipient(ref reader, out from),
                MessageProperty.Sender => TryRecipient(ref reader, out sender),
                MessageProperty.ToRecipients => TryRecipients(ref reader, out to),
                MessageProperty.CcRecipients => TryRecipients(ref reader, out cc),
                MessageProperty.BccRecipients => TryRecipients(ref reader, out bcc),
                MessageProperty.Removed => Removed(ref reader, ref isRemoved),
                _ => Skip(ref reader),
            };
            if (field != MessageProperty.Other)
            {
                bad = ok ? bad & ~(1 << (int)field) : bad | (1 << (int)field);
            }
        }

        if (isRemoved)
        {
            return Entry.Removed;
        }

        if (bad != 0 || string.IsNullOrWhiteSpace(id) || !TryDate(sentText, out var sent) || !TryDate(receivedText, out var received))
        {
            return Entry.Malformed;
        }

        message = new SentMessage(mailbox.Id, mailbox.Address, id, internetMessageId, conversationId, subject, sent ?? received, from, sender, to, cc, bcc);
        return Entry.Message;

        static bool Removed(ref Utf8JsonReader reader, ref bool removed)
        {
            removed = true;
            return Skip(ref reader);
        }
    }

    /// <summary>Which of the properties a message is read for the reader stands on (Other for any other: skipped).</summary>
    internal static MessageProperty FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8) ? MessageProperty.Id
        : reader.ValueTextEquals("internetMessageId"u8) ? MessageProperty.InternetMessageId
        : reader.ValueTextEquals("conversationId"u8) ? MessageProperty.ConversationId
        : reader.ValueTextEquals("subject"u8) ? MessageProperty.Subject
        : reader.ValueTextEquals("sentDateTime"u8) ? MessageProperty.SentDateTime
        : reader.ValueTextEquals("receivedDateTime"u8) ? MessageProperty.ReceivedDateTime
        : reader.ValueTextEquals("from"u8) ? MessageProperty.From
        : reader.ValueTextEquals("sender"u8) ? MessageProperty.Sender
        : reader.ValueTextEquals("toRecipients"u8) ? MessageProperty.ToRecipients
        : reader.ValueTextEquals("ccRecipients"u8) ? MessageProperty.CcRecipients
        : reader.ValueTextEquals("bccRecipients"u8) ? MessageProperty.BccRecipients
        : reader.ValueTextEquals("@removed"u8) ? MessageProperty.Removed
        : MessageProperty.Other;

    private static bool Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return true;
    }

    /// <summary>A string or null; anything else is skipped and refused.</summary>
    private static bool TryText(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.String:
                value = reader.GetString();
                return true;
            default:
                reader.Skip();
                return false;
        }
    }

    private static bool TryDate(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (!TryParseDate(text, out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    /// <summary>A sent or received time as Graph writes it (ISO 8601, UTC when no offset is given): one rule for both readings of a page.</summary>
    internal static bool TryParseDate(ReadOnlySpan<char> text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out value);

    private static bool TryRecipient(ref Utf8JsonReader reader, out Core.Detection.Recipient? value)
    {
        value = null;
        return reader.TokenType == JsonTokenType.Null || TryRecipientValue(ref reader, out value);
    }

    /// <summary>{"emailAddress": {"address": ..., "name": ...}}; a missing or null emailAddress is a recipient without an address.</summary>
    private static bool TryRecipientValue(ref Utf8JsonReader reader, out Core.Detection.Recipient? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        string? address = null, name = null;
        var ok = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("emailAddress"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                (address, name, ok) = (null, null, true);
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                ok = false;
                continue;
            }

            (address, name, ok) = (null, null, true);
            int badAddress = 0, badName = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("address"u8))
                {
                    reader.Read();
                    badAddress = TryText(ref reader, out address) ? 0 : 1;
                }
                else if (reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    badName = TryText(ref reader, out name) ? 0 : 1;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            ok = badAddress == 0 && badName == 0;
        }

        if (ok)
        {
            value = new Core.Detection.Recipient(address, name);
        }

        return ok;
    }

    private static bool TryRecipients(ref Utf8JsonReader reader, out IReadOnlyList<Core.Detection.Recipient> value)
    {
        value = [];
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        var list = new List<Core.Detection.Recipient>();
        var ok = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (TryRecipientValue(ref reader, out var recipient))
            {
                list.Add(recipient!);
            }
            else
            {
                ok = false;
            }
        }

        value = list;
        return ok;
    }
}
