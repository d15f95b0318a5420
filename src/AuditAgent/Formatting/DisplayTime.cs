using System.Globalization;

namespace AuditAgent.Formatting;

/// <summary>
/// Times as people read them: in one time zone (Schedule:TimeZone, the zone the schedules are read in),
/// with the zone named. The one place every face (CLI, mail, exports) formats a moment; JSON and the
/// database stay UTC ISO-8601.
/// </summary>
public sealed class DisplayTime
{
    private DisplayTime(TimeZoneInfo zone)
    {
        Zone = zone;
        ZoneName = zone.Id is "UTC" or "Etc/UTC" || zone == TimeZoneInfo.Utc ? "UTC" : zone.Id;
    }

    public static DisplayTime Utc { get; } = new(TimeZoneInfo.Utc);

    public TimeZoneInfo Zone { get; }

    /// <summary>The zone as shown beside times: "UTC" or its IANA name ("Europe/Berlin").</summary>
    public string ZoneName { get; }

    public static DisplayTime In(TimeZoneInfo zone) => zone == TimeZoneInfo.Utc ? Utc : new DisplayTime(zone);

    /// <summary>By IANA id (falls back to UTC for an unknown one: a display must never fail). Looked up once per id.</summary>
    public static DisplayTime In(string? zoneId) =>
        string.IsNullOrWhiteSpace(zoneId) ? Utc : ById.GetOrAdd(zoneId, static id =>
        {
            try
            {
                return In(TimeZoneInfo.FindSystemTimeZoneById(id));
            }
            catch (TimeZoneNotFoundException)
            {
                return Utc;
            }
        });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, DisplayTime> ById = new(StringComparer.Ordinal);

    /// <summary>"2026-11-29 18:05 Europe/Berlin"; <paramref name="missing"/> for no time.</summary>
    public string Minute(DateTimeOffset? t, string missing = "?") => t is { } v ? $"{Column(v)} {ZoneName}" : missing;

    /// <summary>"2026-11-29 18:05", for a column whose header names the zone (<see cref="Header"/>).</summary>
    public string Column(DateTimeOffset? t, string missing = "?") => t is { } v ? Local(v).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : missing;

    /// <summary>"Sunday 29 November 2026, 18:05 Europe/Berlin (UTC+1)", for mail and pages people read: the day in words, the zone named, its offset that day.</summary>
    /// <remarks>In another language the day is written its way: "Dienstag, 1. Dezember 2026, 16:19 Europe/Berlin (UTC+1)".</remarks>
    public string InWords(DateTimeOffset t, CultureInfo? language = null)
    {
        var words = language is null || language.TwoLetterISOLanguageName is "en" or "iv"
            ? Local(t).ToString("dddd d MMMM yyyy, HH:mm", CultureInfo.InvariantCulture)
            : Local(t).ToString(language.DateTimeFormat.LongDatePattern + ", HH:mm", language);
        var offset = Zone.GetUtcOffset(t);
        if (offset == TimeSpan.Zero && ZoneName == "UTC")
        {
            return $"{words} UTC";
        }

        var sign = offset < TimeSpan.Zero ? "-" : "+";
        var hours = offset.Duration();
        var utc = hours.Minutes == 0 ? $"UTC{sign}{hours.Hours}" : $"UTC{sign}{hours.Hours}:{hours.Minutes:00}";
        return $"{words} {ZoneName} ({utc})";
    }

    /// <summary>A table header for a time column: "Detected (Europe/Berlin)".</summary>
    public string Header(string name) => $"{name} ({ZoneName})";

    private DateTime Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Zone).DateTime;
}
