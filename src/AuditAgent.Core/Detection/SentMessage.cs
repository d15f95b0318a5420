namespace AuditAgent.Core.Detection;

/// <summary>A recipient as Graph gives it: either part may be missing or garbage.</summary>
public sealed record Recipient(string? Address, string? Name);

/// <summary>The sender's copy of a message in Sent Items, reduced to what detection needs.</summary>
public sealed record SentMessage(
    string MailboxId,
    string MailboxAddress,
    string GraphMessageId,
    string? InternetMessageId,
    string? ConversationId,
    string? Subject,
    DateTimeOffset? SentDateTime,
    Recipient? From,
    Recipient? Sender,
    IReadOnlyList<Recipient> To,
    IReadOnlyList<Recipient> Cc,
    IReadOnlyList<Recipient> Bcc);
