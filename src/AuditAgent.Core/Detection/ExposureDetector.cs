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
        var visibleSeen = new HashSet<string>(StringComparer.Ordinal);
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

        var counts = Counts(visible, externalBcc, bcc, visibleSeen);
        if (visible.Count < rules.VisibleExternalThreshold)
        {
            // Who sent it is worked out only for the few messages that need it, not on every message of a scan.
            var bulk = externalBcc.Count >= rules.VisibleExternalThreshold
                ? new BccMessage(message.MailboxId, message.GraphMessageId, Attribution(message).Person, message.SentDateTime, externalBcc)
                : null;
            return new DetectionResult(null, unresolvable, bulk) { Counts = counts };
        }

        var (person, sentAs) = Attribution(message);
        var exposed = visible.Values.ToList();
        var finding = new Finding(
            message.MailboxId,
            message.GraphMessageId,
            message.InternetMessageId,
            message.ConversationId,
            message.Subject,
            message.SentDateTime,
            person,
            PersonName(message, person),
            exposed.Count,
            exposed.Select(r => r.Domain).Distinct(StringComparer.Ordinal).Count(),
            bcc.Count,
            exposed,
            sentAs);
        return new DetectionResult(finding, unresolvable) { Counts = counts };

        void Collect(IReadOnlyList<Recipient> recipients, RecipientField field)
        {
            foreach (var recipient in recipients)
            {
                if (!EmailAddress.TryParse(recipient.Address, out var address))
                {
                    unresolvable++;
                    continue;
                }

                visibleSeen.Add(address.Value);
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

    /// <summary>
    /// Who sent the message and as whom. <c>from</c> is the address it went out as, <c>sender</c> who sent it
    /// (they differ for send on behalf). A send-as copy in a delegate's Sent Items has <c>from</c> = <c>sender</c> =
    /// the shared mailbox: the person is then the mailbox's owner.
    /// </summary>
    public static (string Person, string? SentAs) Attribution(SentMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var mailbox = EmailAddress.TryParse(message.MailboxAddress, out var m) ? m.Value : message.MailboxAddress.Trim().ToLowerInvariant();
        var from = EmailAddress.TryParse((message.From ?? message.Sender)?.Address, out var f) ? f.Value : null;
        var sender = EmailAddress.TryParse((message.Sender ?? message.From)?.Address, out var s) ? s.Value : null;
        if (from is null)
        {
            return (sender ?? mailbox, null);
        }

        var person = sender != from && sender is not null ? sender : mailbox;
        return (person, person == from ? null : from);
    }

    private static string? PersonName(SentMessage message, string person)
    {
        foreach (var r in new[] { message.Sender, message.From })
        {
            if (r is not null && EmailAddress.TryParse(r.Address, out var a) && a.Value == person && !string.IsNullOrWhiteSpace(r.Name))
            {
                return r.Name.Trim();
            }
        }

        return null;
    }

    private static MessageCounts Counts(Dictionary<string, ExposedRecipient> visible, List<string> externalBcc, HashSet<string> bcc, HashSet<string> visibleAll)
    {
        var all = visibleAll.Count;
        foreach (var address in bcc)
        {
            if (!visibleAll.Contains(address))
            {
                all++;
            }
        }

        if (visible.Count == 0 && externalBcc.Count == 0)
        {
            return new MessageCounts(0, 0, all, 0, bcc.Count); // most mail: nobody outside, no set of domains to build
        }

        var domains = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in visible.Values)
        {
            domains.Add(r.Domain);
        }

        var external = visible.Count;
        foreach (var address in externalBcc)
        {
            if (!visible.ContainsKey(address))
            {
                external++;
                domains.Add(address[(address.LastIndexOf('@') + 1)..]);
            }
        }

        return new MessageCounts(visible.Count, external, all, domains.Count, bcc.Count);
    }

    private static void AddIfValid(HashSet<string> set, string? raw)
    {
        if (EmailAddress.TryParse(raw, out var address))
        {
            set.Add(address.Value);
        }
    }
}
