using System.Reflection;

namespace AuditAgent.Tests.Support;

/// <summary>Every options class with a Section constant, found by reflection so that a new section cannot be forgotten.</summary>
public static class OptionSections
{
    public static IReadOnlyDictionary<string, Type> All { get; } = typeof(AuditAgent.Graph.GraphOptions).Assembly.GetTypes()
        .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
        .Where(x => x.Field is { IsLiteral: true })
        .ToDictionary(x => (string)x.Field!.GetRawConstantValue()!, x => x.Type, StringComparer.OrdinalIgnoreCase);
}
