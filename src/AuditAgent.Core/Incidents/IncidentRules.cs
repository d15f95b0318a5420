namespace AuditAgent.Core.Incidents;

/// <summary>How findings become incidents. Every value is configurable; these are the documented defaults.</summary>
public sealed record IncidentRules
{
    /// <summary>Distinct exposed addresses from which an incident is medium.</summary>
    public int MediumFrom { get; init; } = 25;

    /// <summary>Distinct exposed addresses from which an incident is high.</summary>
    public int HighFrom { get; init; } = 100;

    /// <summary>Share of exposed addresses at consumer mailbox domains that raises severity one level.</summary>
    public double PersonalShareToRaise { get; init; } = 0.25;

    /// <summary>Messages from one sender with the same subject within this span are one blast.</summary>
    public TimeSpan GroupingWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>A later message within this span after the blast can re-expose its recipients.</summary>
    public TimeSpan ReExposureWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Share of an incident's exposed addresses that a later message must expose again (or reach in Bcc).</summary>
    public double ReExposureShare { get; init; } = 0.5;

    /// <summary>A sender with another incident within this span is a repeat sender.</summary>
    public TimeSpan RepeatSenderWindow { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Suppress findings whose exposed addresses all belong to one (non-consumer) organisation.</summary>
    public bool SuppressSingleOrganisation { get; init; } = true;

    public Severity SeverityFor(int exposed) =>
        exposed >= HighFrom ? Severity.High : exposed >= MediumFrom ? Severity.Medium : Severity.Low;
}
