namespace AuditAgent.Configuration;

/// <summary>
/// Validators that name the configuration key (Section:Key) and say how to set it, so a missing
/// setting is one readable line instead of a stack trace.
/// </summary>
internal static class OptionsValidation
{
    public static string Missing(string section, string key) =>
        $"{section}:{key} is required. Set it in appsettings.json or as the environment variable AUDITAGENT__{section.ToUpperInvariant()}__{key.ToUpperInvariant()}.";

    public static string Range(string section, string key, object value, int min, int max) =>
        $"{section}:{key} must be between {min} and {max} (it is {value}).";
}
