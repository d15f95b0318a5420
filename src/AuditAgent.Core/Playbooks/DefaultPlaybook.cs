using AuditAgent.Core.Incidents;

namespace AuditAgent.Core.Playbooks;

/// <summary>
/// The default remediation plan, from the principles in the product notes: do not repeat the mistake,
/// raise the level, explain the fix, offer something where the harm is real, put control where it
/// belongs, and assess the legal duty on GDPR's 72-hour clock.
/// </summary>
public static class DefaultPlaybook
{
    /// <summary>The step a recorded breach decision completes.</summary>
    public const string AssessBreach = "assess-and-record-breach";

    public static Playbook Instance { get; } = new(
    [
        new PlaybookStep(
            "stop-spread",
            "Stop the spread",
            "Every reply-all or new message to the same list hands the addresses out again.",
            OwnerRole.Sender,
            TimeSpan.FromHours(4),
            StepCondition.Always,
            "Tell the sender not to reply to all and not to write to this list again from a mail client. "
            + "Any follow-up goes one recipient at a time, in Bcc, or through the approved bulk-mail platform, which also handles opt-outs."),
        new PlaybookStep(
            "apologise-from-higher-up",
            "Apologise from higher up",
            "An apology from someone senior shows the organisation takes the disclosure seriously; one from the sender repeats the mistake's source.",
            OwnerRole.Manager,
            TimeSpan.FromDays(2),
            StepCondition.Always,
            "A senior person writes to each affected recipient without exposing anyone again (individually or in Bcc). Key accounts also get a phone call."),
        new PlaybookStep(
            "explain-the-fix",
            "Explain the fix",
            "People accept a mistake more readily when they are told what caused it and what now prevents it.",
            OwnerRole.Communications,
            TimeSpan.FromDays(3),
            StepCondition.Always,
            "Say what caused the disclosure and what changed (process, tooling, this monitoring). Never ask the recipients what they would like done."),
        new PlaybookStep(
            "offer-protection",
            "Offer something in return",
            "Private addresses were exposed, so the harm to those people is real.",
            OwnerRole.Communications,
            TimeSpan.FromDays(5),
            new StepCondition(PersonalMailboxes: true),
            "Offer the people whose personal addresses were exposed something of value, e.g. a privacy-protection or spam-filtering service."),
        new PlaybookStep(
            "train-sender-and-team",
            "Train the sender and the team",
            "Bulk mail belongs to a team with tooling and policy, not to individual senders.",
            OwnerRole.Manager,
            TimeSpan.FromDays(14),
            StepCondition.Always,
            "Walk the sender and their team through the bulk-mail policy: when to use Bcc, when to use the bulk-mail platform, who owns customer lists."),
        new PlaybookStep(
            "prevent-in-tenant",
            "Prevent it in the tenant",
            "A warning before sending stops the next one; this agent only finds it afterwards.",
            OwnerRole.Security,
            TimeSpan.FromDays(7),
            StepCondition.Always,
            "Turn on Outlook MailTips for large and external audiences (Exchange Online PowerShell):\n"
            + "  Set-OrganizationConfig -MailTipsLargeAudienceThreshold 10 -MailTipsExternalRecipientsTipsEnabled $true\n"
            + "and add a Purview DLP rule that warns or blocks on many external recipients, e.g.\n"
            + "  New-DlpCompliancePolicy -Name \"Bulk external mail\" -ExchangeLocation All -Mode Enable\n"
            + "  New-DlpComplianceRule -Name \"Warn on 10+ recipients\" -Policy \"Bulk external mail\" -RecipientCountOver 10 -NotifyUser Owner -NotifyPolicyTipCustomText \"Use Bcc or the bulk-mail platform.\""),
        new PlaybookStep(
            AssessBreach,
            "Assess and record the breach",
            "Under GDPR Art. 33 a personal-data breach is notified within 72 hours of becoming aware of it unless it is unlikely to result in a risk, and every breach is documented.",
            OwnerRole.PrivacyOfficer,
            NotificationClock.Window,
            StepCondition.Always,
            "Assess the risk to the people exposed and decide on notifying the supervisory authority (Art. 33) and, where the risk is high, the people themselves (Art. 34). "
            + "Record the breach in the breach register in every case (Art. 33(5)); `auditagent incidents export ID` gives the evidence pack."),
        new PlaybookStep(
            "stop-the-repeat",
            "Stop the repeat",
            "A follow-up exposed the same people again, so the first response did not hold.",
            OwnerRole.Security,
            TimeSpan.FromHours(24),
            new StepCondition(ReExposed: true),
            "The follow-up repeated the disclosure. Escalate to the sender's manager, take over all further contact with these recipients, and check that nothing else is queued to the list."),
        new PlaybookStep(
            "ask-repliers-to-delete",
            "Ask those who replied to all to delete the messages",
            "Each reply to all put every address in front of everyone again, often with the replier's own details.",
            OwnerRole.Security,
            TimeSpan.FromHours(24),
            new StepCondition(RepliedToAll: true),
            "Write to each person who replied to all (individually, never to the list): ask them to delete the original and their reply, and not to reply to all again. "
            + "Colleagues who replied to all from their own mailbox: ask them to delete their copy in Sent Items too."),
    ]);
}
