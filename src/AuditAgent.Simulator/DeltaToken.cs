using System.Globalization;
using System.Text;

namespace AuditAgent.Simulator;

/// <summary>
/// The state behind a skip or delta token. Self-contained, so tokens stay valid across simulator
/// restarts of the same tenant (as Graph's survive), until the mailbox's epoch is bumped.
/// </summary>
/// <param name="Position">Next Sent Items position to serve (for a delta token: the watermark).</param>
/// <param name="End">Positions at or after this one belong to a later round.</param>
internal sealed record DeltaToken(string UserId, int Epoch, int Position, int End, long? SinceUnixSeconds, string? Select)
{
    public string Encode()
    {
        var text = string.Join('|', UserId, Epoch.ToString(CultureInfo.InvariantCulture), Position.ToString(CultureInfo.InvariantCulture),
            End.ToString(CultureInfo.InvariantCulture), SinceUnixSeconds?.ToString(CultureInfo.InvariantCulture) ?? "", Select ?? "");
        return System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
    }

    public static DeltaToken? TryDecode(string token)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token)).Split('|');
            if (parts.Length != 6)
            {
                return null;
            }

            return new DeltaToken(
                parts[0],
                int.Parse(parts[1], CultureInfo.InvariantCulture),
                int.Parse(parts[2], CultureInfo.InvariantCulture),
                int.Parse(parts[3], CultureInfo.InvariantCulture),
                parts[4].Length == 0 ? null : long.Parse(parts[4], CultureInfo.InvariantCulture),
                parts[5].Length == 0 ? null : parts[5]);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
