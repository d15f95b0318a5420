namespace AuditAgent.Storage;

public sealed record DigestIncident(
    long Id,
    string Severity,
    string Status,
    string Sender,
    string? SenderName,
    string? Subject,
    int Exposed,
    int Personal,
    bool ReExposed,
    bool RepeatSender,
    IReadOnlyList<string> Reasons,
    DateTimeOffset DetectedAt,
    string? NextStep,
    string? NextStepOwner,
    DateTimeOffset? NextStepDue)
{
    /// <summary>The incident's page in the console, when Web:PublicUrl is set.</summary>
    public string? Link { get; init; }
}

/// <summary>An incident waiting for its breach decision: when it is due, and how many hours are left (negative: late).</summary>
public sealed record DecisionDue(long IncidentId, string Severity, DateTimeOffset DueAt, double HoursLeft)
{
    public int WholeHoursLeft => (int)Math.Floor(HoursLeft);

    public bool Urgent => HoursLeft < 24;
}

public sealed record SeverityAge(string Severity, int Total, int UnderThreeDays, int ThreeToSevenDays, int OverSevenDays);

public sealed record OverdueStep(long IncidentId, string Severity, string Title, string Owner, DateTimeOffset DueAt);

public sealed record RepeatSender(string Sender, int Incidents);

public sealed record SuppressedCount(string Reason, int Findings);

public sealed record FailedMailbox(string Address, string Error);

public sealed record ScanHealth(DateTimeOffset? LastScanAt, string? LastScanStatus, int Mailboxes, IReadOnlyList<FailedMailbox> Failed, TimeSpan? WorstLag, string? LastJobFailure)
{
    /// <summary>Event sinks with dead letters or failing now (none when all deliver).</summary>
    public IReadOnlyList<SinkStatus> TroubledSinks { get; init; } = [];
}

/// <summary>An answer from an escalation mail, in words.</summary>
public sealed record MailAnswerLine(long IncidentId, string Recipient, string Text, DateTimeOffset At);

public sealed record TrendDay(DateOnly Day, int Low, int Medium, int High, int Critical)
{
    public int Total => Low + Medium + High + Critical;

    /// <summary>"Sun 29 Nov", for the text part's chart.</summary>
    public string Label => Day.ToString("ddd dd MMM", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Everything the daily digest shows, gathered before rendering.</summary>
/// <summary>
/// What `auditagent backtest` recommends, for the digest's weekly edition: a prompt before sending above
/// <paramref name="Over"/> visible external recipients would have caught all <paramref name="Incidents"/> incidents of the last
/// <paramref name="Days"/> days; rates are already formatted.
/// </summary>
public sealed record DigestPrevention(int Days, int Incidents, int Over, long Interruptions, string PerWeek, string PerWeekPerHundredUsers, int MailTipsMissed);

public sealed record DigestModel(
    DateOnly Day,
    string TimeZone,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    IReadOnlyList<DigestIncident> NewIncidents,
    IReadOnlyList<DigestIncident> ReExposed,
    IReadOnlyList<SeverityAge> OpenBySeverity,
    IReadOnlyList<OverdueStep> Overdue,
    IReadOnlyList<RepeatSender> RepeatSenders,
    IReadOnlyList<SuppressedCount> Suppressed,
    ScanHealth Health,
    IReadOnlyList<TrendDay> Trend,
    string? ConsoleUrl = null)
{
    /// <summary>What the recipients of escalations answered from the mail in the period.</summary>
    public IReadOnlyList<MailAnswerLine> Answers { get; init; } = [];

    /// <summary>Incidents waiting for their breach decision (GDPR Art. 33: 72 hours from awareness), the nearest first.</summary>
    public IReadOnlyList<DecisionDue> DecisionsDue { get; init; } = [];

    /// <summary>The weekly edition's recommendation (Mondays): the prompt-before-send threshold that would have caught every recent incident.</summary>
    public DigestPrevention? Prevention { get; init; }

    public bool IsQuiet => NewIncidents.Count == 0 && ReExposed.Count == 0 && Overdue.Count == 0 && Answers.Count == 0;

    public int OpenTotal => OpenBySeverity.Sum(s => s.Total);

    public string Subject => IsQuiet
        ? $"AuditAgent daily digest {Day:yyyy-MM-dd}: nothing new, {Health.Mailboxes} mailboxes scanned"
        : $"AuditAgent daily digest {Day:yyyy-MM-dd}: {NewIncidents.Count} new incidents, {ReExposed.Count} re-exposed, {Overdue.Count} overdue steps";
}
