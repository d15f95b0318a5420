using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AuditAgent.Protection;

namespace AuditAgent.Breach;

/// <summary>
/// Seals an exported evidence file (an incident's Markdown, HTML or JSON) with an HMAC under this agent's key
/// ring, and checks one: a file changed by a single byte no longer matches. Markdown and HTML end with a comment
/// line <c>&lt;!-- evidence-seal: hmac-sha256:... --&gt;</c> over everything before it; JSON carries it as its last
/// property <c>"seal"</c>, computed over the file with that value empty.
/// </summary>
public sealed partial class EvidenceSeal(RecipientProtector protector)
{
    private const string Scheme = "hmac-sha256:";

    public async Task<string> SealAsync(string content, bool json, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        var cipher = await protector.GetAsync(ct);
        if (json)
        {
            var at = content.LastIndexOf(EmptySeal, StringComparison.Ordinal);
            if (at < 0)
            {
                throw new InvalidOperationException("a JSON export must end with an empty \"seal\" to fill.");
            }

            var mac = Convert.ToHexStringLower(cipher.SealEvidence(Encoding.UTF8.GetBytes(content)));
            return content[..at] + $"\"seal\": \"{Scheme}{mac}\"" + content[(at + EmptySeal.Length)..];
        }

        var body = content.EndsWith('\n') ? content : content + "\n";
        return body + $"<!-- evidence-seal: {Scheme}{Convert.ToHexStringLower(cipher.SealEvidence(Encoding.UTF8.GetBytes(body)))} -->\n";
    }

    /// <summary>Null when the file is sealed by this agent and unchanged; otherwise what is wrong.</summary>
    public async Task<string?> CheckAsync(string content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        string covered;
        string claimed;
        if (JsonSeal().Match(content) is { Success: true } j)
        {
            claimed = j.Groups[1].Value;
            covered = content[..j.Index] + EmptySeal + content[(j.Index + j.Length)..];
        }
        else if (CommentSeal().Match(content) is { Success: true } m && m.Index + m.Length == content.Length)
        {
            claimed = m.Groups[1].Value;
            covered = content[..m.Index];
        }
        else
        {
            return "the file carries no evidence seal (it was not exported by AuditAgent, or the seal was removed)";
        }

        var cipher = await protector.GetAsync(ct);
        var expected = cipher.SealEvidence(Encoding.UTF8.GetBytes(covered));
        return claimed.Length == 64 && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(claimed), expected)
            ? null
            : "the seal does not match: the file was changed after it was exported, or another agent's key ring sealed it";
    }

    private const string EmptySeal = "\"seal\": \"\"";

    [GeneratedRegex("\"seal\": \"hmac-sha256:([0-9a-f]*)\"")]
    private static partial Regex JsonSeal();

    [GeneratedRegex("<!-- evidence-seal: hmac-sha256:([0-9a-f]*) -->\n$")]
    private static partial Regex CommentSeal();
}
