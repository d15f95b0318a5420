using System.ComponentModel.DataAnnotations;
using System.Reflection;

namespace AuditAgent.Configuration;

/// <summary>
/// Validators that name the configuration key (Section:Key) and say how to set it, so a missing
/// setting is one readable line instead of a stack trace.
/// </summary>
internal static class OptionsValidation
{
    public static string Missing(string section, string key) =>
        $"{section}:{key} is required. Set it in appsettings.json or as the environment variable AUDITAGENT__{section.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()}__{key.ToUpperInvariant()}.";

    public static string Range(string section, string key, object value, int min, int max) =>
        $"{section}:{key} must be between {min} and {max} (it is {value}).";

    /// <summary>An https URL, or plain http to this machine only (the simulator, a local receiver): what every outgoing URL setting accepts.</summary>
    public static bool IsHttpsOrLoopback(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    /// <summary>A host name that is this machine (localhost, 127.0.0.1, ::1): where a clear-text transport is acceptable.</summary>
    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>The configuration section an options class is bound to: its <c>public const string Section</c>.</summary>
    public static string SectionOf(Type optionsType) =>
        optionsType.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
        ?? throw new InvalidOperationException($"{optionsType.Name} has no 'public const string Section'.");
}

/// <summary>
/// An inclusive range for a whole-number setting, checked by the source-generated
/// <c>[OptionsValidator]</c> of its options class. It exists because the generator's copy of
/// <see cref="RangeAttribute"/> drops <c>ErrorMessage</c>, and a refusal must name Section:Key.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class WithinAttribute(int minimum, int maximum) : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is int number && number >= minimum && number <= maximum
            ? ValidationResult.Success
            : new ValidationResult(OptionsValidation.Range(OptionsValidation.SectionOf(context.ObjectType), context.MemberName ?? context.DisplayName, value ?? "empty", minimum, maximum));
}
