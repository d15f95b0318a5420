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

        // Counting is the tally's (the scan's fast path counts with the same one); a finding's details are made
        // only for the few messages that are findings.
        var tally = RecipientTally.Start(internalDomains);
        foreach (var address in new[] { message.MailboxAddress, message.From?.Address, message.Sender?.Address })
        {
            if (EmailAddress.TryParse(address, out var own))
            {
                Feed(tally, own.Value, RecipientRole.Own);
            }
        }

        var unresolvable = Feed(tally, message.To, RecipientRole.Visible) + Feed(tally, message.Cc, RecipientRole.Visible) + Feed(tally, message.Bcc, RecipientRole.Bcc);
        var counts = tally.Counts();
        if (counts.VisibleExternal < rules.VisibleExternalThreshold)
        {
            // Who sent it is worked out only for the few messages that need it, not on every message of a scan.
            var bulk = tally.ExternalBcc >= rules.VisibleExternalThreshold
                ? new BccMessage(message.MailboxId, message.GraphMessageId, Attribution(message).Person, message.SentDateTime, ExternalBcc(message, tally))
                : null;
            return new DetectionResult(null, unresolvable, bulk) { Counts = counts };
        }

        var (person, sentAs) = Attribution(message);
        var exposed = Exposed(message, tally);
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
            counts.Bcc,
            exposed,
            sentAs);
        return new DetectionResult(finding, unresolvable) { Counts = counts };
    }

    /// <returns>The recipients without a usable address (counted, then ignored).</returns>
    private static int Feed(RecipientTally tally, IReadOnlyList<Recipient> recipients, RecipientRole role)
    {
        var unresolvable = 0;
        foreach (var recipient in recipients)
        {
            if (EmailAddress.TryParse(recipient.Address, out var address))
            {
                Feed(tally, address.Value, role);
            }
            else
            {
                unresolvable++;
            }
        }

        return unresolvable;
    }

    /// <returns>The address's entry in the tally (the same entry when it is added again).</returns>
    private static int Feed(RecipientTally tally, string address, RecipientRole role)
    {
        var size = System.Text.Encoding.UTF8.GetMaxByteCount(address.Length);
        Span<byte> utf8 = size <= 1024 ? stackalloc byte[size] : new byte[size];
        return tally.Add(utf8[..System.Text.Encoding.UTF8.GetBytes(address, utf8)], role);
    }

    /// <summary>
    /// The distinct outside people in To and Cc, in order: the first field wins (To before Cc), with the first non-empty
    /// name. Who is outside is the tally's answer, as for the counts (the recipients were all added to it already).
    /// </summary>
    private static List<ExposedRecipient> Exposed(SentMessage message, RecipientTally tally)
    {
        var visible = new Dictionary<string, ExposedRecipient>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (recipients, field) in new[] { (message.To, RecipientField.To), (message.Cc, RecipientField.Cc) })
        {
            foreach (var recipient in recipients)
            {
                if (!EmailAddress.TryParse(recipient.Address, out var address) || !tally.IsOutside(Feed(tally, address.Value, RecipientRole.Visible)))
                {
                    continue;
                }

                var name = string.IsNullOrWhiteSpace(recipient.Name) ? null : recipient.Name.Trim();
                if (visible.TryGetValue(address.Value, out var seen))
                {
                    if (seen.Name is null && name is not null)
                    {
                        visible[address.Value] = seen with { Name = name };
                    }

                    continue;
                }

                visible.Add(address.Value, new ExposedRecipient(address.Value, name, field));
                order.Add(address.Value);
            }
        }

        return order.ConvertAll(a => visible[a]);
    }

    /// <summary>The distinct outside people in Bcc, in order (as the scan's fast path lists them, from the same tally).</summary>
    private static List<string> ExternalBcc(SentMessage message, RecipientTally tally)
    {
        var external = new List<string>();
        foreach (var recipient in message.Bcc)
        {
            if (EmailAddress.TryParse(recipient.Address, out var address) && tally.TakeOutside(Feed(tally, address.Value, RecipientRole.Bcc)))
            {
                external.Add(address.Value);
            }
        }

        return external;
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
}
