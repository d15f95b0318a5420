using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

/// <summary>What an answer link is bound to: the incident, the answer, the person it was sent to, when it stops working, and its nonce (single use).</summary>
public sealed record AnswerToken(long IncidentId, MailAnswer Answer, string Recipient, DateTimeOffset ExpiresAt, string Nonce);

/// <summary>Why a link is refused.</summary>
public enum AnswerLinkProblem
{
    None,

    /// <summary>Not one of ours, or altered: the signature does not hold.</summary>
    Tampered,

    Expired,

    /// <summary>A link of another incident put in this incident's address.</summary>
    WrongIncident,
}

/// <summary>
/// The one-click answer links of escalation mails: <c>{Web:PublicUrl}/answer/{incident}/{token}</c>, where the
/// token is the <see cref="AnswerToken"/> protected (encrypted and authenticated) with the console's Data
/// Protection keys, which live in the database sealed by the key ring, so every agent and console of one
/// deployment reads them. A GET only shows a confirmation page; the POST there acts, once per nonce.
/// </summary>
public sealed class AnswerLinks(IDataProtectionProvider protection, ConsoleLinks links, IOptions<NotificationOptions> options, TimeProvider time)
{
    private const string Purpose = "AuditAgent.MailAnswers.v1";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IDataProtector Protector => protection.CreateProtector(Purpose);

    /// <summary>The link for this recipient and answer, or null when the console has no public address.</summary>
    public string? For(long incidentId, MailAnswer answer, string recipient)
    {
        if (links.Root is not { } root)
        {
            return null;
        }

        var token = new AnswerToken(incidentId, answer, recipient, time.GetUtcNow().AddDays(options.Value.AnswerLinkDays), Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        return $"{root}/answer/{incidentId}/{Protect(token)}";
    }

    /// <summary>A link per answer for this recipient, with its words; none without Web:PublicUrl.</summary>
    public IReadOnlyList<EscalationAnswer> For(long incidentId, IEnumerable<MailAnswer> answers, string recipient) =>
        [.. answers.Select(a => (a, Url: For(incidentId, a, recipient))).Where(x => x.Url is not null).Select(x => new EscalationAnswer(x.a.Name(), x.a.Label(), x.Url!))];

    public string Protect(AnswerToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Payload(1, token.IncidentId, token.Answer.Name(), token.Recipient, token.ExpiresAt.ToUnixTimeSeconds(), token.Nonce), Json);
        return System.Buffers.Text.Base64Url.EncodeToString(Protector.Protect(payload));
    }

    /// <summary>The token, if it is ours, unaltered, unexpired and for the incident in the address.</summary>
    public (AnswerToken? Token, AnswerLinkProblem Problem) Read(long incidentId, string text)
    {
        Payload? p;
        try
        {
            p = JsonSerializer.Deserialize<Payload>(Protector.Unprotect(System.Buffers.Text.Base64Url.DecodeFromChars(text)), Json);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return (null, AnswerLinkProblem.Tampered);
        }

        if (p is null || p.V != 1 || !MailAnswers.TryParse(p.A, out MailAnswer answer) || string.IsNullOrEmpty(p.R) || string.IsNullOrEmpty(p.N))
        {
            return (null, AnswerLinkProblem.Tampered);
        }

        var token = new AnswerToken(p.I, answer, p.R, DateTimeOffset.FromUnixTimeSeconds(p.E), p.N);
        if (token.IncidentId != incidentId)
        {
            return (token, AnswerLinkProblem.WrongIncident);
        }

        return token.ExpiresAt <= time.GetUtcNow() ? (token, AnswerLinkProblem.Expired) : (token, AnswerLinkProblem.None);
    }

    private sealed record Payload(int V, long I, string A, string R, long E, string N);
}
