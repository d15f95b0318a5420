using System.Text.Json;

namespace AuditAgent.Protection;

/// <summary>
/// Seals and opens exposed recipients, and gives each address a keyed hash for matching. The hash is
/// "{HMAC-SHA256 of the address}@{domain}": incidents group, re-expose and recognise Bcc follow-ups by
/// comparing these, and count domains, without ever reading an address. The hash key is random, stored
/// in the database sealed with the ring, so rotating the ring never changes a hash.
/// </summary>
public sealed class RecipientCipher(KeyRing ring, byte[] hashKey) : IDisposable
{
    // A scan hashes every external Bcc recipient of every newsletter: one reusable HMAC per thread and no
    // intermediate strings make that about a microsecond each instead of a dozen.
    private readonly ThreadLocal<System.Security.Cryptography.IncrementalHash> _hmac =
        new(() => System.Security.Cryptography.IncrementalHash.CreateHMAC(System.Security.Cryptography.HashAlgorithmName.SHA256, hashKey));

    public KeyRing Ring => ring;

    /// <summary>
    /// HMAC-SHA256 of exported evidence, under a key derived from the hash key for that one use: whoever holds
    /// this agent's database and key ring can check an export was not changed by a single byte.
    /// </summary>
    public byte[] SealEvidence(ReadOnlySpan<byte> content)
    {
        var key = System.Security.Cryptography.HMACSHA256.HashData(hashKey, "auditagent evidence seal v1"u8);
        return System.Security.Cryptography.HMACSHA256.HashData(key, content);
    }

    public void Dispose() => _hmac.Dispose();

    /// <summary>"{first 128 bits of HMAC-SHA256 of the lower-cased address, base64url}@{domain}".</summary>
    public string KeyOf(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var trimmed = address.AsSpan().Trim();
        Span<char> lower = trimmed.Length <= 512 ? stackalloc char[trimmed.Length] : new char[trimmed.Length];
        trimmed.ToLowerInvariant(lower);
        Span<byte> utf8 = lower.Length <= 512 ? stackalloc byte[lower.Length * 3] : new byte[lower.Length * 3];
        return KeyOf(utf8[..System.Text.Encoding.UTF8.GetBytes(lower, utf8)]);
    }

    /// <summary>The same key from an address already trimmed and lower-cased, as UTF-8 (what the scan's reader holds).</summary>
    public string KeyOf(ReadOnlySpan<byte> normalisedUtf8)
    {
        Span<char> key = normalisedUtf8.Length <= 512 ? stackalloc char[MaxKeyLength(normalisedUtf8)] : new char[MaxKeyLength(normalisedUtf8)];
        return new string(key[..WriteKey(normalisedUtf8, key)]);
    }

    /// <summary>
    /// The keys of normalised UTF-8 addresses given one per line, one per line in the same order: a Bcc mailing's
    /// outside recipients as stored. Written into a buffer sized for the longest keys the lines can make, then copied
    /// into the one string returned (a newsletter has dozens; growing a builder cost more than the hashing).
    /// </summary>
    public string KeysOf(ReadOnlySpan<byte> lines)
    {
        var most = 0;
        foreach (var range in lines.Split((byte)'\n'))
        {
            most += MaxKeyLength(lines[range]) + 1;
        }

        var buffer = System.Buffers.ArrayPool<char>.Shared.Rent(most);
        try
        {
            var length = 0;
            foreach (var range in lines.Split((byte)'\n'))
            {
                if (length > 0)
                {
                    buffer[length++] = '\n';
                }

                length += WriteKey(lines[range], buffer.AsSpan(length));
            }

            return new string(buffer, 0, length);
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>The key's length at most: the hash's 22 characters and '@', then at most a character per byte of the domain.</summary>
    private static int MaxKeyLength(ReadOnlySpan<byte> normalisedUtf8) => 23 + (normalisedUtf8.Length - normalisedUtf8.LastIndexOf((byte)'@') - 1);

    private int WriteKey(ReadOnlySpan<byte> normalisedUtf8, Span<char> key)
    {
        var hmac = _hmac.Value!;
        hmac.AppendData(normalisedUtf8);
        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        var domain = normalisedUtf8[(normalisedUtf8.LastIndexOf((byte)'@') + 1)..];
        System.Buffers.Text.Base64Url.EncodeToChars(mac[..16], key);
        key[22] = '@';
        return 23 + System.Text.Encoding.UTF8.GetChars(domain, key[23..]);
    }

    /// <summary>Sealed for its message (mailbox and Graph id), so that it opens only in that message's row.</summary>
    public string Seal(string mailboxId, string graphMessageId, string address, string? name) =>
        ring.Seal(Plaintext(address, name), Context(mailboxId, graphMessageId));

    private static byte[] Plaintext(string address, string? name) => JsonSerializer.SerializeToUtf8Bytes(new[] { address, name });

    public (string Address, string? Name) Open(string mailboxId, string graphMessageId, string sealedValue)
    {
        var parts = JsonSerializer.Deserialize<string?[]>(ring.Open(sealedValue, Context(mailboxId, graphMessageId)));
        return parts is [{ } address, var name] ? (address, name) : throw new System.Security.Cryptography.CryptographicException("The sealed recipient is malformed.");
    }

    /// <summary>A finding's recipients as they are stored: keyed hash, domain, field and the sealed address and name.</summary>
    public IReadOnlyList<StoredRecipient> Protect(Core.Detection.Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var context = System.Text.Encoding.UTF8.GetBytes(Context(finding.MailboxId, finding.GraphMessageId));
        return finding.VisibleExternal
            .Select(r => new StoredRecipient(KeyOf(r.Address), r.Domain.ToLowerInvariant(), r.Field.ToString(), ring.Seal(Plaintext(r.Address, r.Name), context)))
            .ToList();
    }

    internal static string Context(string mailboxId, string graphMessageId) => $"exposed-recipient:{mailboxId}/{graphMessageId}";
}

/// <summary>One exposed recipient as stored: only <paramref name="Sealed"/> holds the address and name.</summary>
public sealed record StoredRecipient(string Key, string Domain, string Field, string Sealed);
