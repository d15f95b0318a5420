namespace AuditAgent.Core.Detection;

/// <summary>
/// The first rule: a sent message is a finding when its visible external recipients reach the
/// threshold. Visible means To or Cc (never Bcc); external means not at an internal domain and not
/// the sender's own address; addresses are deduplicated case-insensitively.
/// </summary>
public static class ExposureDetector
{
    public static DetectionResult Detect(SentMessage message, InternalDomains internalDomains, DetectionRules rules)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(internalDomains);
        ArgumentNullException.ThrowIfNull(rules);

        var own = new HashSet<string>(StringComparer.Ordinal);
        AddIfValid(own, message.MailboxAddress);
        AddIfValid(own, message.From?.Address);
        AddIfValid(own, message.Sender?.Address);

        var unresolvable = 0;
        var visible = new Dictionary<string, ExposedRecipient>(StringComparer.Ordinal);
        Collect(message.To, RecipientField.To);
        Collect(message.Cc, RecipientField.Cc);

        var bcc = new HashSet<string>(StringComparer.Ordinal);
        var externalBcc = new List<string>();
        foreach (var recipient in message.Bcc)
        {
            if (!EmailAddress.TryParse(recipient.Address, out var address))
            {
                unresolvable++;
            }
            else if (bcc.Add(address.Value) && !own.Contains(address.Value) && !internalDomains.Contains(address.Domain))
            {
                externalBcc.Add(address.Value);
            }
        }

        var sender = message.From ?? message.Sender;
        string SenderAddress() => EmailAddress.TryParse(sender?.Address, out var parsed) ? parsed.Value : message.MailboxAddress.Trim().ToLowerInvariant();
        if (visible.Count < rules.VisibleExternalThreshold)
        {
            var bulk = externalBcc.Count >= rules.VisibleExternalThreshold
                ? new BccMessage(message.MailboxId, message.GraphMessageId, SenderAddress(), message.SentDateTime, externalBcc)
                : null;
            return new DetectionResult(null, unresolvable, bulk);
        }

        var exposed = visible.Values.ToList();
        var finding = new Finding(
            message.MailboxId,
            message.GraphMessageId,
            message.InternetMessageId,
            message.ConversationId,
            message.Subject,
            message.SentDateTime,
            SenderAddress(),
            sender?.Name,
            exposed.Count,
            exposed.Select(r => r.Domain).Distinct(StringComparer.Ordinal).Count(),
            bcc.Count,
            exposed);
        return new DetectionResult(finding, unresolvable);

        void Collect(IReadOnlyList<Recipient> recipients, RecipientField field)
        {
            foreach (var recipient in recipients)
            {
                if (!EmailAddress.TryParse(recipient.Address, out var address))
                {
                    unresolvable++;
                    continue;
                }

                if (own.Contains(address.Value) || internalDomains.Contains(address.Domain))
                {
                    continue;
                }

                var name = string.IsNullOrWhiteSpace(recipient.Name) ? null : recipient.Name.Trim();
                if (visible.TryGetValue(address.Value, out var seen))
                {
                    // First field wins (To before Cc); keep the first non-empty display name.
                    if (seen.Name is null && name is not null)
                    {
                        visible[address.Value] = seen with { Name = name };
                    }

                    continue;
                }

                visible.Add(address.Value, new ExposedRecipient(address.Value, name, field));
            }
        }
    }

    private static void AddIfValid(HashSet<string> set, string? raw)
    {
        if (EmailAddress.TryParse(raw, out var address))
        {
            set.Add(address.Value);
        }
    }
}
