namespace AuditAgent.Core.Incidents;

/// <summary>What the recipient of an escalation can answer from the mail, with one click and a confirmation.</summary>
public enum MailAnswer
{
    /// <summary>"I have spoken with the sender": the stop-the-spread step is done.</summary>
    SpokeWithSender,

    /// <summary>"The apology has gone out" (individually, in Bcc, or through the bulk-mail platform): the apology step is done.</summary>
    ApologySent,

    /// <summary>"I need help from security": the incident's owner (or the security contact) is told at once.</summary>
    NeedHelp,

    /// <summary>"This mail was authorised", with a justification: flagged for the analyst's review, never closed by it.</summary>
    Authorised,

    /// <summary>The sender: "It was a mistake".</summary>
    Mistake,

    /// <summary>The sender: "The recipients agreed to share their addresses", with a reason: flagged for the analyst's review.</summary>
    RecipientsAgreed,

    /// <summary>The sender: "I did not send this": a possibly compromised account; severity critical, security told at once, a step to check the sign-ins.</summary>
    NotMe,
}

/// <summary>How an apology went out; the recipients were never exposed again in any of these.</summary>
public enum ApologyChannel
{
    Individually,
    Bcc,
    BulkMailPlatform,
}

/// <summary>The answers' names, words and the plan step each one completes.</summary>
public static class MailAnswers
{
    /// <summary>What the sender's manager can answer from an escalation.</summary>
    public static readonly IReadOnlyList<MailAnswer> All = [MailAnswer.SpokeWithSender, MailAnswer.ApologySent, MailAnswer.NeedHelp, MailAnswer.Authorised];

    /// <summary>What the sender can answer to the question mail (Notifications:AskSender).</summary>
    public static readonly IReadOnlyList<MailAnswer> FromSender = [MailAnswer.Mistake, MailAnswer.RecipientsAgreed, MailAnswer.NotMe];

    /// <summary>The step a "not me" answer adds to the plan.</summary>
    public static readonly PlaybookStepText CheckSignIns = new(
        "check-account-sign-ins",
        "Check the sender's account for compromise",
        "The sender says they did not send the message: someone else may be using the account.",
        "Review the account's sign-in logs and mailbox rules in Entra ID and Exchange; revoke its sessions, reset its password and require MFA if anything is unexplained.");

    public static bool IsFromSender(this MailAnswer answer) => answer is MailAnswer.Mistake or MailAnswer.RecipientsAgreed or MailAnswer.NotMe;

    public static string Name(this MailAnswer answer) => answer switch
    {
        MailAnswer.SpokeWithSender => "spoke-with-sender",
        MailAnswer.ApologySent => "apology-sent",
        MailAnswer.NeedHelp => "need-help",
        MailAnswer.Authorised => "authorised",
        MailAnswer.Mistake => "mistake",
        MailAnswer.RecipientsAgreed => "recipients-agreed",
        _ => "not-me",
    };

    public static bool TryParse(string? text, out MailAnswer answer)
    {
        foreach (var a in All.Concat(FromSender))
        {
            if (string.Equals(a.Name(), text, StringComparison.Ordinal))
            {
                answer = a;
                return true;
            }
        }

        answer = default;
        return false;
    }

    /// <summary>The words on the link and on the confirmation button.</summary>
    public static string Label(this MailAnswer answer) => answer switch
    {
        MailAnswer.SpokeWithSender => "I have spoken with the sender",
        MailAnswer.ApologySent => "The apology has gone out",
        MailAnswer.NeedHelp => "I need help from security",
        MailAnswer.Authorised => "This mail was authorised",
        MailAnswer.Mistake => "It was a mistake",
        MailAnswer.RecipientsAgreed => "The recipients agreed to share their addresses",
        _ => "I did not send this",
    };

    /// <summary>The default playbook's step the answer completes (an incident whose plan lacks it is not offered the answer), or null.</summary>
    public static string? Step(this MailAnswer answer) => answer switch
    {
        MailAnswer.SpokeWithSender => "stop-spread",
        MailAnswer.ApologySent => "apologise-from-higher-up",
        _ => null,
    };

    public static string Name(this ApologyChannel channel) => channel switch
    {
        ApologyChannel.Individually => "individually",
        ApologyChannel.Bcc => "bcc",
        _ => "bulk-mail-platform",
    };

    public static string Words(this ApologyChannel channel) => channel switch
    {
        ApologyChannel.Individually => "one message per recipient",
        ApologyChannel.Bcc => "in Bcc",
        _ => "through the bulk-mail platform",
    };

    public static bool TryParse(string? text, out ApologyChannel channel)
    {
        foreach (var c in new[] { ApologyChannel.Individually, ApologyChannel.Bcc, ApologyChannel.BulkMailPlatform })
        {
            if (string.Equals(c.Name(), text, StringComparison.Ordinal))
            {
                channel = c;
                return true;
            }
        }

        channel = default;
        return false;
    }

    /// <summary>The timeline's words for an answer, by whom (an address) and with what detail.</summary>
    public static string Timeline(this MailAnswer answer, string by, string? detail) => answer switch
    {
        MailAnswer.SpokeWithSender => $"{by} answered from the escalation mail: spoke with the sender (the spread is stopped).",
        MailAnswer.ApologySent => $"{by} answered from the escalation mail: the apology has gone out {detail}.",
        MailAnswer.NeedHelp => $"{by} asked from the escalation mail for help from security.",
        MailAnswer.Authorised => $"{by} answered from the escalation mail that the message was authorised: \"{detail}\". Flagged for the analyst's review; the incident stays open.",
        MailAnswer.Mistake => $"The sender ({by}) answered: it was a mistake.",
        MailAnswer.RecipientsAgreed => $"The sender ({by}) answered that the recipients agreed to share their addresses: \"{detail}\". Flagged for the analyst's review.",
        _ => $"The sender ({by}) answered that they did not send this message: the account may be compromised. Severity raised to critical; the security contact was told; a step to check the account's sign-ins was added.",
    };

    /// <summary>What the sender said when asked (Notifications:AskSender), as the manager and the console read it; null when they were not asked.</summary>
    public static string? SenderAnswerWords(bool asked, string? answer) => (asked, answer) switch
    {
        (false, _) => null,
        (true, null) => "The sender was asked what happened and has not answered yet.",
        (_, "no-answer") => "The sender has not answered the question about it.",
        _ when TryParse(answer, out MailAnswer a) => $"The sender answered: \"{a.Label()}\".",
        _ => answer,
    };
}

/// <summary>The words of a plan step added by an answer.</summary>
public sealed record PlaybookStepText(string Key, string Title, string Why, string Instructions);
