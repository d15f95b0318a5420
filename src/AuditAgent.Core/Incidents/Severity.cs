namespace AuditAgent.Core.Incidents;

public enum Severity
{
    Low,
    Medium,
    High,
    Critical,
}

public static class SeverityNames
{
    public static string Name(this Severity severity) => severity.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out Severity severity) =>
        Enum.TryParse(text, ignoreCase: true, out severity) && Enum.IsDefined(severity);

    public static Severity Raise(this Severity severity) => severity == Severity.Critical ? Severity.Critical : severity + 1;
}
