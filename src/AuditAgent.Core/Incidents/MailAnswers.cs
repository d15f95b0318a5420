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
    public static readonly IReadOnlyList<MailAnswer> All = [MailAnswer.SpokeWithSender, MailAnswer.ApologySent, MailAnswer.NeedHelp, MailAnswer.Authorised];

    public static string Name(this MailAnswer answer) => answer switch
    {
        MailAnswer.SpokeWithSender => "spoke-with-sender",
        MailAnswer.ApologySent => "apology-sent",
        MailAnswer.NeedHelp => "need-help",
        _ => "authorised",
    };

    public static bool TryParse(string? text, out MailAnswer answer)
    {
        foreach (var a in All)
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
        _ => "This mail was authorised",
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
        _ => $"{by} answered from the escalation mail that the message was authorised: \"{detail}\". Flagged for the analyst's review; the incident stays open.",
    };
}
