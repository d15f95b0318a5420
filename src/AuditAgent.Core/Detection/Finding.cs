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
    IReadOnlyList<ExposedRecipient> VisibleExternal);

/// <summary>
/// A message that reached as many external people as an exposure would, but properly, in Bcc. Kept so
/// that a follow-up to an incident's recipients can be recognised as the remediation it is.
/// </summary>
public sealed record BccMessage(string MailboxId, string GraphMessageId, string SenderAddress, DateTimeOffset? SentDateTime, IReadOnlyList<string> ExternalBcc);

/// <summary>What detection saw in one message, whether or not it became a finding.</summary>
/// <param name="Finding">The finding, or null when the message is not an exposure.</param>
/// <param name="UnresolvableRecipients">Recipients without a usable SMTP address (counted, then ignored).</param>
/// <param name="BccMessage">Set when the message is not a finding but reached the threshold of external people in Bcc.</param>
public sealed record DetectionResult(Finding? Finding, int UnresolvableRecipients, BccMessage? BccMessage = null);
