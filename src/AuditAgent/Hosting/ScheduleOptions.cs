using AuditAgent.Configuration;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuditAgent.Hosting;

/// <summary>Section "Schedule": Quartz cron expressions, read in one IANA time zone.</summary>
public sealed class ScheduleOptions
{
    public const string Section = "Schedule";

    /// <summary>IANA time zone for every schedule and for quiet hours, e.g. Europe/Berlin.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Scan Sent Items: every 15 minutes.</summary>
    public string ScanCron { get; set; } = "0 0/15 * * * ?";

    /// <summary>Send the daily digest: 08:00.</summary>
    public string DigestCron { get; set; } = "0 0 8 * * ?";

    /// <summary>Escalate new serious incidents and overdue steps: every 15 minutes, offset from the scan.</summary>
    public string EscalationCron { get; set; } = "0 5/15 * * * ?";

    /// <summary>Purge data past retention: 03:30.</summary>
    public string PurgeCron { get; set; } = "0 30 3 * * ?";

    /// <summary>Send the apologies the agent was asked to send (Notifications:Apology): every 5 minutes.</summary>
    public string ApologyCron { get; set; } = "0 2/5 * * * ?";

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}

/// <summary>Section "Retention".</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Exposed recipients of resolved or false-positive incidents are deleted this many days after closure; counts and domains stay.</summary>
    [Within(1, 3650)]
    public int ClosedIncidentRecipientsDays { get; set; } = 180;

    /// <summary>Recipients of messages sent properly in Bcc are kept this long, to recognise follow-ups.</summary>
    [Within(1, 3650)]
    public int BccMessageRecipientsDays { get; set; } = 60;

    /// <summary>Sent digests and escalations (their bodies) are kept this long.</summary>
    [Within(1, 3650)]
    public int SentMailDays { get; set; } = 90;

    /// <summary>Count-only rows of scanned messages (no address, no subject), for auditagent backtest, are kept this long.</summary>
    [Within(1, 3650)]
    public int MessageStatsDays { get; set; } = 90;
}

internal sealed class ScheduleOptionsValidator : IValidateOptions<ScheduleOptions>
{
    public ValidateOptionsResult Validate(string? name, ScheduleOptions o)
    {
        const string S = ScheduleOptions.Section;
        var errors = new List<string>();
        try
        {
            _ = o.Zone;
        }
        catch (TimeZoneNotFoundException)
        {
            errors.Add($"{S}:TimeZone '{o.TimeZone}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC).");
        }

        foreach (var (key, value) in new[] { (nameof(o.ScanCron), o.ScanCron), (nameof(o.DigestCron), o.DigestCron), (nameof(o.EscalationCron), o.EscalationCron), (nameof(o.PurgeCron), o.PurgeCron), (nameof(o.ApologyCron), o.ApologyCron) })
        {
            if (!IsValidCron(value))
            {
                errors.Add($"{S}:{key} '{value}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week, e.g. \"0 0/15 * * * ?\").");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsValidCron(string? value)
    {
        try
        {
            _ = new CronExpression(value ?? "");
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

[OptionsValidator]
internal sealed partial class RetentionOptionsValidator : IValidateOptions<RetentionOptions>;
