using Microsoft.Extensions.Logging;

namespace AuditAgent.Hosting;

/// <summary>
/// Every message an operator may alert on, with a stable EventId (docs/operations.md lists them): 1xxx scanning,
/// 2xxx incidents and mail, 3xxx event sinks, 4xxx the agent, its jobs and its cluster, 5xxx the key ring.
/// Source-generated, so a message is only formatted when its level is enabled. Never a subject, a body or an
/// exposed address: mailboxes are the tenant's own, incidents are numbers.
/// </summary>
internal static partial class LogEvents
{
    [LoggerMessage(1001, LogLevel.Information, "{Action} scan cycle {Cycle} over {Mailboxes} mailboxes; internal domains: {Domains}")]
    public static partial void ScanCycle(this ILogger logger, string action, long cycle, int mailboxes, string domains);

    [LoggerMessage(1002, LogLevel.Information, "Scanned {Mailbox}: {Messages} new messages in {ElapsedMs} ms")]
    public static partial void MailboxScanned(this ILogger logger, string mailbox, int messages, long elapsedMs);

    [LoggerMessage(1003, LogLevel.Warning, "Mailbox {Mailbox} failed: {Reason}")]
    public static partial void MailboxFailed(this ILogger logger, string mailbox, string reason);

    [LoggerMessage(1004, LogLevel.Information, "{Mailbox} has no Exchange Online mailbox; it is tried again in a day")]
    public static partial void NoMailbox(this ILogger logger, string mailbox);

    [LoggerMessage(1005, LogLevel.Warning, "Graph lost the sync state of {Mailbox}; starting a new sync of the look-back window")]
    public static partial void SyncStateLost(this ILogger logger, string mailbox);

    [LoggerMessage(1006, LogLevel.Warning, "Skipped {Malformed} malformed messages in {Mailbox}")]
    public static partial void MalformedSkipped(this ILogger logger, int malformed, string mailbox);

    [LoggerMessage(1007, LogLevel.Warning, "Skipped {Conflicting} messages in {Mailbox} whose Graph id came twice with different recipients")]
    public static partial void ConflictingSkipped(this ILogger logger, int conflicting, string mailbox);

    [LoggerMessage(1008, LogLevel.Warning, "The scan covered 0 mailboxes: check Scan:IncludeMailboxes and Scan:ExcludeMailboxes, and that the app can list users")]
    public static partial void NoMailboxesScanned(this ILogger logger);

    [LoggerMessage(1010, LogLevel.Warning, "Could not renew mailbox leases: {Reason}")]
    public static partial void LeaseRenewalFailed(this ILogger logger, string reason);

    [LoggerMessage(1011, LogLevel.Warning, "Could not give back this agent's mailbox leases ({Reason}); they expire on their own")]
    public static partial void LeaseReleaseFailed(this ILogger logger, string reason);

    [LoggerMessage(1012, LogLevel.Warning, "Dropped {Pages} pages of mailboxes whose lease another agent took over; that agent reads them again")]
    public static partial void PagesDropped(this ILogger logger, int pages);

    [LoggerMessage(1013, LogLevel.Warning, "Could not compile the page path ahead of the first mailbox ({Reason}); the scan goes on")]
    public static partial void PageWarmUpFailed(this ILogger logger, string reason);

    [LoggerMessage(1020, LogLevel.Warning, "The reply watch did not run: {Reason}")]
    public static partial void ReplyWatchFailed(this ILogger logger, string reason);

    [LoggerMessage(1021, LogLevel.Warning, "The reply watch could not read the conversation of incident {Incident}: {Reason}")]
    public static partial void ReplyWatchConversationFailed(this ILogger logger, string incident, string reason);

    [LoggerMessage(1022, LogLevel.Information, "The reply watch found {Replies} new replies to all across {Incidents} open incidents")]
    public static partial void RepliesFound(this ILogger logger, int replies, int incidents);

    [LoggerMessage(2001, LogLevel.Information, "Incidents: {Opened} opened, {Updated} updated, {Suppressed} findings suppressed, {ReExposures} re-exposures, {FollowUps} Bcc follow-ups, {Replies} replies to all")]
    public static partial void IncidentsProcessed(this ILogger logger, int opened, int updated, int suppressed, int reExposures, int followUps, int replies);

    [LoggerMessage(2010, LogLevel.Warning, "Incident {Incident}: the sender has no manager in the directory and no Notifications:FallbackEscalationContact is set")]
    public static partial void NoEscalationContact(this ILogger logger, long incident);

    [LoggerMessage(2020, LogLevel.Error, "Could not send {Kind} {Reference}: {Reason}")]
    public static partial void MailFailed(this ILogger logger, string kind, string reference, string reason);

    [LoggerMessage(2021, LogLevel.Warning, "Outbox message {Reference} may or may not have been delivered ({Transport} cannot tell); left for a person")]
    public static partial void MailDeliveryUnknown(this ILogger logger, string reference, string transport);

    [LoggerMessage(2030, LogLevel.Error, "Could not send the apology of incident {Incident} to one person (attempt {Attempt}): {Reason}")]
    public static partial void ApologyFailed(this ILogger logger, long incident, int attempt, string reason);

    [LoggerMessage(2031, LogLevel.Warning, "Apologies from {Mailbox} stopped for today: {Limit} went out in the last 24 hours (Notifications:Apology:RecipientsPerDay)")]
    public static partial void ApologyDayLimit(this ILogger logger, string mailbox, int limit);

    [LoggerMessage(3001, LogLevel.Warning, "Sink {Sink}: event {Event} failed ({Error}); attempt {Attempt} of {Max}, next in {Delay}")]
    public static partial void SinkAttemptFailed(this ILogger logger, string sink, long @event, string? error, int attempt, int max, TimeSpan delay);

    [LoggerMessage(3002, LogLevel.Error, "Sink {Sink}: events {First} to {Last} set aside after {Attempts} attempts: {Error}")]
    public static partial void SinkDeadLettered(this ILogger logger, string sink, long first, long last, int attempts, string? error);

    [LoggerMessage(3003, LogLevel.Warning, "Sink {Sink}: redelivering event {Event} failed ({Error}); it stays a dead letter, asked for again")]
    public static partial void SinkRedeliveryFailed(this ILogger logger, string sink, long @event, string? error);

    [LoggerMessage(3004, LogLevel.Error, "Pushing events failed: {Error}")]
    public static partial void PushFailed(this ILogger logger, string error);

    [LoggerMessage(4001, LogLevel.Error, "Job {Job} failed: {Reason}")]
    public static partial void JobFailed(this ILogger logger, Exception exception, string job, string reason);

    [LoggerMessage(4010, LogLevel.Warning, "Cluster check-in failed: {Reason}")]
    public static partial void CheckInFailed(this ILogger logger, string reason);

    [LoggerMessage(4011, LogLevel.Warning, "Could not record this agent's stop: {Reason}")]
    public static partial void StopNotRecorded(this ILogger logger, string reason);

    [LoggerMessage(4020, LogLevel.Warning, "The telemetry sample could not read the database: {Reason}")]
    public static partial void TelemetrySampleFailed(this ILogger logger, string reason);

    [LoggerMessage(5001, LogLevel.Warning, "Created the key file {Path}; keep a copy apart from the database (without it the stored addresses cannot be read)")]
    public static partial void KeyFileCreated(this ILogger logger, string path);
}
