using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AuditAgent.Protection;

/// <summary>
/// The keys that protect the exposed addresses AuditAgent stores: AES-256-GCM (authenticated encryption)
/// with the newest key, while every older key in the ring still opens what it sealed. A sealed value
/// names its key ("p1.{key id}.{nonce, ciphertext and tag}") and is bound to its context (what it is and
/// which row it belongs to), so a value copied to another row does not open.
/// </summary>
public sealed class KeyRing
{
    private const string Version = "p1";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly List<(string Id, byte[] Key)> _keys;

    [ThreadStatic]
    private static (byte[] Key, AesGcm Aes)? t_sealer;

    private KeyRing(List<(string Id, byte[] Key)> keys) => _keys = keys;

    /// <summary>The key that seals new values: the last one in the ring.</summary>
    public string CurrentId => _keys[^1].Id;

    public IReadOnlyList<string> Ids => _keys.Select(k => k.Id).ToList();

    /// <summary>A new random 256-bit key, base64, as a key file line or Protection:Key expects it.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Reads a ring: one base64 key (32 bytes) per line, oldest first, the last one current; blank
    /// lines and lines starting with # are ignored. <paramref name="source"/> names where it came from.
    /// </summary>
    public static KeyRing Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = new List<(string, byte[])>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var bytes = new byte[48];
            if (!Convert.TryFromBase64String(line, bytes, out var length) || length != 32)
            {
                throw new FormatException($"{source}, line {lineNumber}: not a key (expected 32 bytes in base64, as `auditagent keys new` prints).");
            }

            var key = bytes[..32];
            keys.Add((IdOf(key), key));
        }

        return keys.Count == 0
            ? throw new FormatException($"{source} holds no key (one base64 key per line, as `auditagent keys new` prints).")
            : new KeyRing(keys);
    }

    /// <summary>The key a sealed value was sealed with, or null when it is not a sealed value.</summary>
    public static string? KeyIdOf(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('.');
        return parts.Length == 3 && parts[0] == Version ? parts[1] : null;
    }

    public string Seal(ReadOnlySpan<byte> plaintext, string context) => Seal(plaintext, Encoding.UTF8.GetBytes(context));

    /// <summary>The same, with the context already in UTF-8 (a finding's recipients share one).</summary>
    public string Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> context)
    {
        var (id, key) = _keys[^1];
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        SealerFor(key).Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), context);
        return $"{Version}.{id}.{Base64Url.EncodeToString(output)}";
    }

    /// <summary>
    /// This thread's cipher for the sealing key: setting a key up is an OpenSSL context each time, and a scan seals
    /// every exposed recipient with the same key (a fresh random nonce each, as before). Used synchronously only.
    /// </summary>
    private static AesGcm SealerFor(byte[] key)
    {
        if (t_sealer is { } sealer && ReferenceEquals(sealer.Key, key))
        {
            return sealer.Aes;
        }

        t_sealer?.Aes.Dispose();
        var aes = new AesGcm(key, TagSize);
        t_sealer = (key, aes);
        return aes;
    }

    public byte[] Open(string value, string context)
    {
        var id = KeyIdOf(value) ?? throw new CryptographicException("The value is not sealed by AuditAgent.");
        var key = _keys.FirstOrDefault(k => k.Id == id).Key
            ?? throw new CryptographicException($"The value is sealed with key {id}, which is not in the configured key ring (keys: {string.Join(", ", Ids)}). Add that key back to open it.");
        var data = Base64Url.DecodeFromChars(value.AsSpan(value.LastIndexOf('.') + 1));
        if (data.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The sealed value is truncated.");
        }

        var plaintext = new byte[data.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize, plaintext.Length), data.AsSpan(data.Length - TagSize), plaintext, Encoding.UTF8.GetBytes(context));
        return plaintext;
    }

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 4));
}
