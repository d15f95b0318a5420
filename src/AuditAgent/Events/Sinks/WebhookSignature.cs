using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuditAgent.Events.Sinks;

/// <summary>
/// The Standard Webhooks signature (standardwebhooks.com): HMAC-SHA256 over "{id}.{timestamp}.{body}" with each
/// secret, written "v1,&lt;base64&gt;" and space-separated, so a receiver accepts the message during a rotation.
/// </summary>
public static class WebhookSignature
{
    private const string Prefix = "whsec_";

    /// <summary>The key bytes of a whsec_ secret, or null when it is not one.</summary>
    public static byte[]? KeyOf(string secret)
    {
        if (secret is null || !secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            var key = Convert.FromBase64String(secret[Prefix.Length..]);
            return key.Length >= 16 ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static string Sign(string id, DateTimeOffset timestamp, string body, IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}.{body}");
        return string.Join(' ', secrets.Select(s => "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(s) ?? throw new ArgumentException("not a whsec_ secret", nameof(secrets)), content))));
    }
}
