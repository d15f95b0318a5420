using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Configuration;

/// <summary>
/// What the configuration binder lets pass silently: a key nobody reads (a typo such as
/// VisibleExternalThresold), a list given as one string (which binds to an empty list, so every mailbox
/// is scanned), and NaN or infinity in a number. Registered for every options section.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>
    /// A list setting given as one value ("a@b.com, c@d.com" from an environment variable, or a JSON
    /// string) is split on commas and semicolons; the binder would ignore it.
    /// </summary>
    public static void ApplyListValues(object options, IConfigurationSection section)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType == typeof(List<string>) && property.CanWrite
                && section.GetSection(property.Name) is { Value: { } value } child && !child.GetChildren().Any())
            {
                property.SetValue(options, value.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList());
            }
        }
    }

    /// <summary>Keys in the section that no property reads, each with the closest known key; numbers that are not finite.</summary>
    public static IEnumerable<string> Problems(object options, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(options);
        return UnknownKeys(options.GetType(), section).Concat(NonFinite(options, section.Path));
    }

    private static IEnumerable<string> UnknownKeys(Type type, IConfigurationSection section)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var closest = Closest(child.Key, properties.Keys);
                yield return $"{child.Path} is not a setting of {section.Path}"
                    + (closest is null ? $"; its settings are {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}." : $"; did you mean {section.Path}:{closest}?");
                continue;
            }

            if (IsNested(property.PropertyType))
            {
                foreach (var problem in UnknownKeys(property.PropertyType, child))
                {
                    yield return problem;
                }
            }
        }
    }

    private static IEnumerable<string> NonFinite(object options, string path)
    {
        // Settings only: computed properties (a time zone looked up from a name, say) are not read here.
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.CanRead))
        {
            var value = property.GetValue(options);
            if (value is double d && !double.IsFinite(d))
            {
                yield return $"{path}:{property.Name} must be a finite number (it is {d.ToString(CultureInfo.InvariantCulture)}).";
            }
            else if (value is not null && IsNested(property.PropertyType))
            {
                foreach (var problem in NonFinite(value, $"{path}:{property.Name}"))
                {
                    yield return problem;
                }
            }
        }
    }

    private static bool IsNested(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);

    /// <summary>The known key a typo most likely meant: within a third of its length in edits.</summary>
    internal static string? Closest(string key, IEnumerable<string> known) =>
        known.Select(k => (Key: k, Distance: Distance(key.ToUpperInvariant(), k.ToUpperInvariant())))
            .Where(x => x.Distance <= Math.Max(2, key.Length / 3))
            .OrderBy(x => x.Distance)
            .Select(x => x.Key)
            .FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}

/// <summary>Runs <see cref="ConfigurationShape.Problems"/> with the section's own validation, at start-up.</summary>
internal sealed class ConfigurationShapeValidator<TOptions>(IConfiguration configuration, string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var problems = ConfigurationShape.Problems(options, configuration.GetSection(section)).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
