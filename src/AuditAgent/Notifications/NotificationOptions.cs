using AuditAgent.Configuration;
using AuditAgent.Core.Incidents;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

public enum MailTransportKind
{
    /// <summary>Graph sendMail from <see cref="NotificationOptions.SenderMailbox"/> (needs Mail.Send).</summary>
    Graph,

    /// <summary>An SMTP relay (MailKit).</summary>
    Smtp,

    /// <summary>Nothing is sent; messages are only written to <see cref="NotificationOptions.OutputFolder"/>.</summary>
    None,
}

/// <summary>Section "Notifications": the daily digest and the escalations to managers.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    public MailTransportKind Transport { get; set; } = MailTransportKind.Graph;

    /// <summary>The mailbox digests and escalations are sent from (Graph) or the From address (SMTP).</summary>
    public string? SenderMailbox { get; set; }

    /// <summary>The security team's addresses: they get the daily digest.</summary>
    public List<string> DigestRecipients { get; set; } = [];

    /// <summary>Who in security owns incidents that have no assignee; named in every escalation.</summary>
    public string? SecurityContact { get; set; }

    /// <summary>Escalations go here when the sender has no manager in the directory.</summary>
    public string? FallbackEscalationContact { get; set; }

    /// <summary>Incidents opened at or above this severity are escalated to the sender's manager.</summary>
    public Severity EscalateFromSeverity { get; set; } = Severity.High;

    /// <summary>Local time (in Schedule:TimeZone) from which escalations wait, e.g. "20:00"; empty for none.</summary>
    public string? QuietHoursStart { get; set; }

    /// <summary>Local time at which held escalations go out, e.g. "07:00".</summary>
    public string? QuietHoursEnd { get; set; }

    /// <summary>Also write every message here (.eml and .html), whatever the transport.</summary>
    public string? OutputFolder { get; set; }

    /// <summary>High and critical incidents whose sender's or manager's step stays open go this many levels up the directory (the manager's manager ...); 0 for never.</summary>
    [Within(0, 3)]
    public int EscalationDepth { get; set; } = 1;

    /// <summary>Hours past a step's due time before each next level is told.</summary>
    [Within(1, 720)]
    public int EscalateUpAfterHours { get; set; } = 24;

    /// <summary>Right after detection, ask the sender (without blame) what happened: a mistake, recipients who agreed, or not sent by them.</summary>
    public bool AskSender { get; set; }

    /// <summary>After this long without an answer, the silence is recorded (timeline, digest, the manager's escalation).</summary>
    [Within(1, 720)]
    public int SenderAnswerHours { get; set; } = 48;

    /// <summary>The approved way to mail many people, named in the sender's mail (e.g. "the marketing team's newsletter tool"); Bcc is named either way.</summary>
    public string? BulkMailPlatform { get; set; }

    /// <summary>The organisation's name, under the signature of the drafted apology.</summary>
    public string? Organisation { get; set; }

    /// <summary>What the drafted apology offers where private addresses were exposed (e.g. "a year of a spam-filtering service"); a field to fill when empty.</summary>
    public string? ApologyOffer { get; set; }

    /// <summary>How long the answer links in an escalation mail work (each once; they need Web:PublicUrl).</summary>
    [Within(1, 90)]
    public int AnswerLinkDays { get; set; } = 14;

    /// <summary>A folder of mail templates (escalation.liquid, escalation.de.liquid, ...) replacing or adding to the built-in ones; see the README.</summary>
    public string? TemplatesFolder { get; set; }

    /// <summary>The organisation's language: mail goes in it unless the recipient's directory entry names another with a template.</summary>
    public string Language { get; set; } = "en";

    /// <summary>Send a short "nothing found, N mailboxes scanned" digest on quiet days, so silence never means a dead agent.</summary>
    public bool SendEmptyDigest { get; set; } = true;

    [ValidateObjectMembers]
    public SmtpOptions Smtp { get; set; } = new();

    [ValidateObjectMembers]
    public ApologyOptions Apology { get; set; } = new();

    public TimeOnly? QuietStart => TimeOnly.TryParse(QuietHoursStart, System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : null;

    public TimeOnly? QuietEnd => TimeOnly.TryParse(QuietHoursEnd, System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : null;
}

/// <summary>Section "Notifications:Smtp".</summary>
public sealed class SmtpOptions
{
    public const string Section = "Notifications:Smtp";

    public string? Host { get; set; }

    [Within(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary>Auto (STARTTLS when offered), StartTls, SslOnConnect or None.</summary>
    public string Security { get; set; } = "Auto";

    public string? Username { get; set; }

    public string? Password { get; set; }
}

/// <summary>
/// Section "Notifications:Apology": the agent sending an approved apology itself, one message per exposed
/// person, through Graph sendMail. Read on its own too (the console offers the button when a mailbox is set).
/// </summary>
public sealed class ApologyOptions
{
    public const string Section = "Notifications:Apology";

    /// <summary>The mailbox apologies go out from (Graph sendMail; grant Mail.Send scoped to it); empty: only the recipient list for a bulk-mail platform.</summary>
    public string? Mailbox { get; set; }

    /// <summary>Exchange Online accepts 30 messages a minute from one mailbox.</summary>
    [Within(1, 30)]
    public int MessagesPerMinute { get; set; } = 30;

    /// <summary>Exchange Online accepts 10,000 recipients a day from one mailbox; lower it when the mailbox sends other mail.</summary>
    [Within(1, 10000)]
    public int RecipientsPerDay { get; set; } = 10000;

    /// <summary>How long after an interrupted send its copy is looked for in Sent Items (the copy can take a while to appear).</summary>
    [Within(0, 3600)]
    public int SentItemsWaitSeconds { get; set; } = 300;

    /// <summary>Stands for {name} when the directory gave the person no name.</summary>
    public string NameFallback { get; set; } = "Sir or Madam";
}

[OptionsValidator]
internal sealed partial class ApologyOptionsValidator : IValidateOptions<ApologyOptions>;

[OptionsValidator]
internal sealed partial class NotificationOptionsValidator : IValidateOptions<NotificationOptions>;

/// <summary>What the transport needs, and the quiet hours as a pair.</summary>
internal sealed class NotificationTransportValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions o)
    {
        const string S = NotificationOptions.Section;
        var errors = new List<string>();
        if (o.Transport != MailTransportKind.None && string.IsNullOrWhiteSpace(o.SenderMailbox))
        {
            errors.Add(OptionsValidation.Missing(S, nameof(o.SenderMailbox)) + " (or set Notifications:Transport to None)");
        }

        if (o.Transport == MailTransportKind.None && string.IsNullOrWhiteSpace(o.OutputFolder))
        {
            errors.Add($"{S}:OutputFolder is required when {S}:Transport is None, or nothing would reach anyone.");
        }

        if (o.Transport == MailTransportKind.Smtp && string.IsNullOrWhiteSpace(o.Smtp.Host))
        {
            errors.Add(OptionsValidation.Missing(SmtpOptions.Section, nameof(o.Smtp.Host)));
        }


        try
        {
            MailTemplates.Load(o.TemplatesFolder, o.Language);
        }
        catch (MailTemplateException ex)
        {
            errors.AddRange(ex.Problems.Select(p => "mail template " + p));
        }

        if (o.Smtp.Security is not ("Auto" or "StartTls" or "SslOnConnect" or "None"))
        {
            errors.Add($"{S}:Smtp:Security must be Auto, StartTls, SslOnConnect or None (it is '{o.Smtp.Security}').");
        }

        if (!string.IsNullOrEmpty(o.QuietHoursStart) && o.QuietStart is null)
        {
            errors.Add($"{S}:QuietHoursStart must be a time such as 20:00 (it is '{o.QuietHoursStart}').");
        }

        if (!string.IsNullOrEmpty(o.QuietHoursEnd) && o.QuietEnd is null)
        {
            errors.Add($"{S}:QuietHoursEnd must be a time such as 07:00 (it is '{o.QuietHoursEnd}').");
        }

        if ((o.QuietStart is null) != (o.QuietEnd is null))
        {
            errors.Add($"{S}:QuietHoursStart and {S}:QuietHoursEnd go together: set both or neither.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
