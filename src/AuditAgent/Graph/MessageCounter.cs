using System.Buffers;
using System.Text;
using System.Text.Json;
using AuditAgent.Core.Detection;

namespace AuditAgent.Graph;

/// <summary>
/// A Bcc mailing counted by the reader: what is kept of it (its outside Bcc recipients, normalised, as UTF-8 lines,
/// to be hashed; never stored as they are).
/// </summary>
/// <param name="SenderAddress">The person who sent it (<see cref="ExposureDetector.Attribution"/>).</param>
public sealed record BccMailing(string GraphMessageId, string SenderAddress, byte[] ExternalBcc, int Count);

/// <summary>What the reader counts messages against: the tenant's domains and the thresholds that make a message worth reading whole.</summary>
public sealed record MessageScreen(InternalDomains InternalDomains, DetectionRules Rules);

/// <summary>
/// The scan's fast path: counts one message straight from a delta page's UTF-8 JSON when everything in it is plain
/// (every property of the type Graph gives and none twice; addresses that trimming, lower-casing and punycode make
/// normal) and it is not a finding. It makes no string, but for a Bcc mailing's id and sender, whose outside
/// recipients it keeps as normalised UTF-8 to be hashed. Anything else is left to the whole reading
/// (<see cref="SentItemsReader"/>) and the detector, which apply every rule; the counts are the same either way (one
/// <see cref="RecipientTally"/>; a property test holds the two paths equal). Most mail is internal or to a few
/// people, so most messages end here.
/// </summary>
internal sealed class MessageCounter
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]?> IdnDomains = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static MessageCounter? s_perThread;

    private readonly byte[] _normal = new byte[320];
    private MessageScreen _screen = null!;
    private byte[]? _mailbox;
    private string _mailboxId = "";
    private string _mailboxAddress = "";
    private Address[] _addresses = new Address[64];
    private int[] _bccEntries = new int[64];
    private int _bccCount;
    private byte[] _text = new byte[4096];
    private int _count;
    private int _used;
    private (int Start, int Length) _id;

    private MessageCounter()
    {
    }

    /// <summary>This thread's counter, for one page (synchronous use only: nothing may await in between).</summary>
    public static MessageCounter For(Mailbox mailbox, MessageScreen screen)
    {
        var counter = s_perThread ??= new MessageCounter();
        counter._screen = screen;
        (counter._mailboxId, counter._mailboxAddress) = (mailbox.Id, mailbox.Address);
        counter._mailbox = EmailAddress.TryParse(mailbox.Address, out var own) ? Encoding.UTF8.GetBytes(own.Value) : null;
        return counter;
    }

    private enum Field : byte
    {
        From,
        Sender,
        To,
        Cc,
        Bcc,
    }

    /// <summary>An address as the message gives it, unescaped, in <see cref="_text"/> (offset and length; -1 for none).</summary>
    private readonly record struct Address(Field Field, int Start, int Length);

    /// <summary>
    /// Reads the message the reader stands on (its StartObject) to its end, whatever happens.
    /// </summary>
    /// <returns>True with the counts when the message was counted here; false when it must be read whole.</returns>
    public bool TryCount(ref Utf8JsonReader reader, out PageMessage counted)
    {
        counted = default;
        var depth = reader.CurrentDepth;
        var plain = TryRead(ref reader, out var key, out var sent);
        // Whatever stopped the reading, the reader is left at the message's end.
        while (!(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            reader.Read();
        }

        if (!plain || key is not { } messageKey)
        {
            return false;
        }

        var tally = RecipientTally.Start(_screen.InternalDomains);
        if (_mailbox is not null)
        {
            tally.Add(_mailbox, RecipientRole.Own);
        }

        var unresolvable = 0;
        var fingerprint = new RecipientsFingerprint();
        _bccCount = 0;
        for (var field = Field.From; field <= Field.Bcc; field++)
        {
            if (field >= Field.To)
            {
                fingerprint.AddCount(Count(field));
            }

            for (var i = 0; i < _count; i++)
            {
                var a = _addresses[i];
                if (a.Field != field)
                {
                    continue;
                }

                ReadOnlySpan<byte> text = a.Start < 0 ? default : _text.AsSpan(a.Start, a.Length);
                if (field >= Field.To && a.Start >= 0)
                {
                    fingerprint.Add(text);
                }

                if (text.IndexOf((byte)'@') < 0)
                {
                    // No address, "", a group's name, a legacy Exchange DN: nothing the detector's parser could use either.
                    unresolvable += field >= Field.To ? 1 : 0;
                    continue;
                }

                text = Normalised(text);
                if (text.IsEmpty || EmailAddress.CanonicalAt(text) < 0)
                {
                    return false; // needs the detector's parser (a local part not in ASCII, "SMTP:", a quoted local part...)
                }

                var entry = tally.Add(text, field switch
                {
                    Field.From or Field.Sender => RecipientRole.Own,
                    Field.Bcc => RecipientRole.Bcc,
                    _ => RecipientRole.Visible,
                });
                if (field == Field.Bcc)
                {
                    KeepBcc(entry);
                }
            }
        }

        var counts = tally.Counts();
        var threshold = _screen.Rules.VisibleExternalThreshold;
        if (counts.VisibleExternal >= threshold)
        {
            return false; // a finding: read whole, detected with its names and addresses
        }

        var bcc = tally.ExternalBcc >= threshold ? BccMailing(tally) : null;
        counted = new PageMessage(messageKey, fingerprint.Value, sent, null, counts, unresolvable, bcc);
        return true;
    }

    /// <summary>
    /// A Bcc mailing, as the detector would record it: who sent it (the attribution needs only the sender's addresses)
    /// and its outside Bcc recipients in the order they first appear, as normalised UTF-8, one a line.
    /// </summary>
    private BccMailing BccMailing(RecipientTally tally)
    {
        string? from = null, sender = null;
        for (var i = 0; i < _count; i++)
        {
            var a = _addresses[i];
            if (a.Start >= 0 && a.Field == Field.From)
            {
                from = Encoding.UTF8.GetString(_text.AsSpan(a.Start, a.Length));
            }
            else if (a.Start >= 0 && a.Field == Field.Sender)
            {
                sender = Encoding.UTF8.GetString(_text.AsSpan(a.Start, a.Length));
            }
        }

        // The outside entries first (taking each once), then their lines written into an array of the exact size.
        var (count, length) = (0, 0);
        for (var i = 0; i < _bccCount; i++)
        {
            var entry = _bccEntries[i];
            if (tally.TakeOutside(entry))
            {
                _bccEntries[count++] = entry;
                length += tally.AddressAt(entry).Length;
            }
        }

        var external = new byte[length + Math.Max(0, count - 1)];
        for (int i = 0, at = 0; i < count; i++)
        {
            if (i > 0)
            {
                external[at++] = (byte)'\n';
            }

            var address = tally.AddressAt(_bccEntries[i]);
            address.CopyTo(external.AsSpan(at));
            at += address.Length;
        }

        var id = Encoding.UTF8.GetString(_text.AsSpan(_id.Start, _id.Length));
        var message = new SentMessage(_mailboxId, _mailboxAddress, id, null, null, null, null,
            from is null ? null : new Recipient(from, null), sender is null ? null : new Recipient(sender, null), [], [], []);
        return new BccMailing(id, ExposureDetector.Attribution(message).Person, external, count);
    }

    /// <summary>A Bcc address's tally entry, in the order the message lists them.</summary>
    private void KeepBcc(int entry)
    {
        if (_bccCount == _bccEntries.Length)
        {
            Array.Resize(ref _bccEntries, _bccCount * 2);
        }

        _bccEntries[_bccCount++] = entry;
    }

    /// <summary>
    /// The address as the detector's parser would make it: trimmed, lower-cased, an international domain in its ASCII
    /// (punycode) form. When the result is canonical it is exactly the address the parser returns. Empty when the
    /// local part is not ASCII or the text is too long to be an address (the parser decides those).
    /// </summary>
    private ReadOnlySpan<byte> Normalised(ReadOnlySpan<byte> text)
    {
        text = text.Trim(" \t\n\v\f\r"u8);
        var at = text.LastIndexOf((byte)'@');
        var domain = text[(at + 1)..];
        if (!Ascii.IsValid(domain))
        {
            if (AsciiDomain(domain) is not { } ascii)
            {
                return default;
            }

            domain = ascii;
        }

        if (at + 1 + domain.Length > _normal.Length || Ascii.ToLower(text[..at], _normal, out _) != OperationStatus.Done)
        {
            return default;
        }

        _normal[at] = (byte)'@';
        Ascii.ToLower(domain, _normal.AsSpan(at + 1), out _);
        return _normal.AsSpan(0, at + 1 + domain.Length);
    }

    /// <summary>An international domain's ASCII form, by the detector's own parser, remembered (a page names the same few).</summary>
    private static byte[]? AsciiDomain(ReadOnlySpan<byte> utf8)
    {
        var text = Encoding.UTF8.GetString(utf8);
        if (IdnDomains.TryGetValue(text, out var known))
        {
            return known;
        }

        var ascii = EmailAddress.TryParse("x@" + text, out var parsed) ? Encoding.ASCII.GetBytes(parsed.Domain) : null;
        if (IdnDomains.Count < 4096)
        {
            IdnDomains.TryAdd(text, ascii);
        }

        return ascii;
    }

    private int Count(Field field)
    {
        var n = 0;
        for (var i = 0; i < _count; i++)
        {
            n += _addresses[i].Field == field ? 1 : 0;
        }

        return n;
    }

    /// <summary>Reads the properties; false as soon as something is not plain (the caller finishes the object).</summary>
    private bool TryRead(ref Utf8JsonReader reader, out long? key, out DateTimeOffset? sentAt)
    {
        key = null;
        sentAt = null;
        _count = 0;
        _used = 0;
        DateTimeOffset? sent = null, received = null;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = SentItemsReader.FieldOf(ref reader);
            var bit = field == MessageProperty.Other ? 0 : 1 << (int)field;
            if ((seen & bit) != 0)
            {
                return false; // a property twice: the whole reading decides which copy counts
            }

            seen |= bit;
            reader.Read();
            var ok = field switch
            {
                MessageProperty.Id => TryId(ref reader, out key),
                MessageProperty.InternetMessageId or MessageProperty.ConversationId or MessageProperty.Subject =>
                    reader.TokenType is JsonTokenType.String or JsonTokenType.Null,
                MessageProperty.SentDateTime => TryDate(ref reader, out sent),
                MessageProperty.ReceivedDateTime => TryDate(ref reader, out received),
                MessageProperty.From => TryRecipient(ref reader, Field.From),
                MessageProperty.Sender => TryRecipient(ref reader, Field.Sender),
                MessageProperty.ToRecipients => TryRecipients(ref reader, Field.To),
                MessageProperty.CcRecipients => TryRecipients(ref reader, Field.Cc),
                MessageProperty.BccRecipients => TryRecipients(ref reader, Field.Bcc),
                MessageProperty.Removed => false, // the whole reading counts it
                _ => Skip(ref reader),
            };
            if (!ok)
            {
                return false;
            }
        }

        sentAt = sent ?? received;
        return true;
    }

    private static bool Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return true;
    }

    /// <summary>An id of printable ASCII (Graph's are), kept, made into its key; anything else is read whole.</summary>
    private bool TryId(ref Utf8JsonReader reader, out long? key)
    {
        key = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        _id = Keep(ref reader);
        var id = _text.AsSpan(_id.Start, _id.Length);
        if (id.IsEmpty)
        {
            return false;
        }

        foreach (var b in id)
        {
            if (b is <= 0x20 or >= 0x7f)
            {
                return false;
            }
        }

        key = MessageKey.Of(id);
        return true;
    }

    private static bool TryDate(ref Utf8JsonReader reader, out DateTimeOffset? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.ValueSpan.Length > 64)
        {
            return false;
        }

        Span<char> text = stackalloc char[64];
        if (Ascii.ToUtf16(reader.ValueSpan, text, out var written) != OperationStatus.Done || !SentItemsReader.TryParseDate(text[..written], out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    private bool TryRecipients(ref Utf8JsonReader reader, Field field)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Null && !TryRecipientValue(ref reader, field))
            {
                return false;
            }
        }

        return true;
    }

    private bool TryRecipient(ref Utf8JsonReader reader, Field field) =>
        reader.TokenType == JsonTokenType.Null || TryRecipientValue(ref reader, field);

    /// <summary>{"emailAddress": {"address": ..., "name": ...}} or {"emailAddress": null}; the name is not needed to count.</summary>
    private bool TryRecipientValue(ref Utf8JsonReader reader, Field field)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var address = (Start: -1, Length: 0);
        var sawEmail = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("emailAddress"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (sawEmail)
            {
                return false;
            }

            sawEmail = true;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartObject || !TryEmailAddress(ref reader, out address))
            {
                return false;
            }
        }

        Add(new Address(field, address.Start, address.Length));
        return true;
    }

    private bool TryEmailAddress(ref Utf8JsonReader reader, out (int Start, int Length) address)
    {
        address = (-1, 0);
        bool sawAddress = false, sawName = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("address"u8))
            {
                if (sawAddress)
                {
                    return false;
                }

                sawAddress = true;
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    address = Keep(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                if (sawName)
                {
                    return false;
                }

                sawName = true;
                reader.Read();
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    return false;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return true;
    }

    /// <summary>The string value the reader stands on, unescaped, kept until the message is counted.</summary>
    private (int Start, int Length) Keep(ref Utf8JsonReader reader)
    {
        var length = reader.ValueSpan.Length; // an escaped value is never shorter than its text
        if (_used + length > _text.Length)
        {
            Array.Resize(ref _text, Math.Max(_text.Length * 2, _used + length));
        }

        var written = reader.ValueIsEscaped ? reader.CopyString(_text.AsSpan(_used)) : Copy(reader.ValueSpan, _text.AsSpan(_used));
        _used += written;
        return (_used - written, written);

        static int Copy(ReadOnlySpan<byte> from, Span<byte> to)
        {
            from.CopyTo(to);
            return from.Length;
        }
    }

    private void Add(Address address)
    {
        if (_count == _addresses.Length)
        {
            Array.Resize(ref _addresses, _count * 2);
        }

        _addresses[_count++] = address;
    }
}

/// <summary>
/// A hash of a message's To, Cc and Bcc addresses, in order, case folded: the same id again in a round with another
/// one is a conflicting copy. Made from UTF-8 by the fast path and from strings by the whole reading, with the same
/// value for the same addresses.
/// </summary>
internal struct RecipientsFingerprint
{
    private const uint Prime = 16777619;
    private uint _hash = 2166136261;

    public RecipientsFingerprint()
    {
    }

    public readonly int Value => (int)_hash;

    public void AddCount(int count) => Mix((uint)count + 0x9e3779b9);

    public void Add(ReadOnlySpan<byte> utf8)
    {
        if (!Ascii.IsValid(utf8))
        {
            // The same value as the string's: its UTF-16 characters, folded the same way.
            Span<char> chars = utf8.Length <= 256 ? stackalloc char[utf8.Length] : new char[utf8.Length];
            Add(chars[..Encoding.UTF8.GetChars(utf8, chars)]);
            return;
        }

        Mix(0x85ebca6b);
        foreach (var b in utf8)
        {
            Mix(b is >= (byte)'A' and <= (byte)'Z' ? (uint)(b | 0x20) : b);
        }
    }

    /// <summary>Null (no address) adds nothing; "" adds the marker every address starts with.</summary>
    public void Add(string? address)
    {
        if (address is not null)
        {
            Add(address.AsSpan());
        }
    }

    private void Add(ReadOnlySpan<char> address)
    {
        Mix(0x85ebca6b);
        foreach (var c in address)
        {
            Mix(char.ToLowerInvariant(c));
        }
    }

    private void Mix(uint value) => _hash = (_hash ^ value) * Prime;
}
