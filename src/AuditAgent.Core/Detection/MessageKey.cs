using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AuditAgent.Core.Detection;

/// <summary>A 64-bit key for a Graph message id (the first 8 bytes of its SHA-256): how count rows and a round's ids are told apart.</summary>
public static class MessageKey
{
    public static long Of(string graphMessageId)
    {
        ArgumentNullException.ThrowIfNull(graphMessageId);
        // Once per scanned message: hashed from the stack (Graph ids are about 150 ASCII characters), nothing allocated.
        var size = Encoding.UTF8.GetMaxByteCount(graphMessageId.Length);
        Span<byte> utf8 = size <= 1024 ? stackalloc byte[size] : new byte[size];
        return Of(utf8[..Encoding.UTF8.GetBytes(graphMessageId, utf8)]);
    }

    /// <summary>The same key from the id's UTF-8 bytes, as they stand in Graph's JSON.</summary>
    public static long Of(ReadOnlySpan<byte> utf8GraphMessageId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8GraphMessageId, hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }
}
