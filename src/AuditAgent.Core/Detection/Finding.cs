namespace AuditAgent.Core.Detection;

public enum RecipientField
{
    To,
    Cc,
}

/// <summary>An external address that every other recipient of the message could see.</summary>
public sealed record ExposedRecipient(string Address, string? Name, RecipientField Field)
{
    public string Domain => Address[(Address.LastIndexOf('@') + 1)..];
}

/// <summary>A sent message that disclosed external recipients to each other.</summary>
/// <param name="SenderAddress">The person who sent it: the mailbox owner, or <c>sender</c> when it differs from <c>from</c> (send on behalf).</param>
/// <param name="SentAs">The address it went out as, when that is not the person (a shared mailbox, send-as, a delegate); else null.</param>
public sealed record Finding(
    string MailboxId,
    string GraphMessageId,
    string? InternetMessageId,
    string? ConversationId,
    string? Subject,
    DateTimeOffset? SentDateTime,
    string SenderAddress,
    string? SenderName,
    int VisibleExternalCount,
    int ExternalDomainCount,
    int BccCount,
    IReadOnlyList<ExposedRecipient> VisibleExternal,
    string? SentAs = null)
{
    /// <summary>Why the list looks sensitive (subject, sending mailbox, department, recipients' names); set by the scan.</summary>
    public IReadOnlyList<SensitiveMatch> Sensitive { get; init; } = [];
}

/// <summary>
/// A message that reached as many external people as an exposure would, but properly, in Bcc. Kept so
/// that a follow-up to an incident's recipients can be recognised as the remediation it is.
/// </summary>
public sealed record BccMessage(string MailboxId, string GraphMessageId, string SenderAddress, DateTimeOffset? SentDateTime, IReadOnlyList<string> ExternalBcc);

/// <summary>
/// A message reduced to counts, kept for every message scanned so that prevention rules can be replayed
/// (<c>backtest</c>): no address, no subject.
/// </summary>
/// <param name="VisibleExternal">Distinct external addresses in To and Cc.</param>
/// <param name="External">Distinct external addresses in To, Cc and Bcc.</param>
/// <param name="All">Distinct addresses in To, Cc and Bcc, internal ones included.</param>
/// <param name="ExternalDomains">Distinct domains of the external addresses.</param>
/// <param name="Bcc">Distinct addresses in Bcc.</param>
public readonly record struct MessageCounts(int VisibleExternal, int External, int All, int ExternalDomains, int Bcc);

/// <summary>What detection saw in one message, whether or not it became a finding.</summary>
/// <param name="Finding">The finding, or null when the message is not an exposure.</param>
/// <param name="UnresolvableRecipients">Recipients without a usable SMTP address (counted, then ignored).</param>
/// <param name="BccMessage">Set when the message is not a finding but reached the threshold of external people in Bcc.</param>
public sealed record DetectionResult(Finding? Finding, int UnresolvableRecipients, BccMessage? BccMessage = null)
{
    public MessageCounts Counts { get; init; }
}
