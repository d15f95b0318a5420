using System.Globalization;
using System.Text.RegularExpressions;
using AuditAgent.Core.Incidents;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AuditAgent.Core.Playbooks;

/// <summary>A playbook file that cannot be used, with the line at fault.</summary>
public sealed class PlaybookException(string source, long line, string reason)
    : Exception($"{source}, line {line}: {reason}")
{
    public long Line { get; } = line;

    public string Reason { get; } = reason;
}

/// <summary>
/// Reads a playbook from YAML or JSON text (JSON is YAML too, so one parser reports lines for both):
/// <code>
/// mode: extend            # or replace
/// steps:
///   - key: notify-legal
///     title: Tell legal
///     why: Legal tracks every disclosure.
///     owner: dpo           # sender, manager, security, dpo, communications
///     due: 24h             # 30m, 24h, 3d, 2w
///     when: { minSeverity: medium, personalMailboxes: true, reExposed: true, repliedToAll: true, sensitive: true }
///     instructions: ...
/// </code>
/// </summary>
public static partial class PlaybookParser
{
    private static readonly string[] StepFields = ["key", "title", "why", "owner", "due", "when", "instructions"];
    private static readonly string[] WhenFields = ["minSeverity", "personalMailboxes", "reExposed", "repliedToAll", "sensitive"];

    /// <param name="source">The file name, for messages.</param>
    /// <param name="basePlaybook">The playbook that "mode: extend" extends.</param>
    public static Playbook Parse(string text, string source, Playbook basePlaybook)
    {
        ArgumentNullException.ThrowIfNull(basePlaybook);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text ?? ""));
        }
        catch (YamlException ex)
        {
            throw new PlaybookException(source, ex.Start.Line, ex.InnerException?.Message ?? ex.Message);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new PlaybookException(source, 1, "expected a mapping with \"steps\" (and optionally \"mode\").");
        }

        Unknown(source, root, ["mode", "steps"]);
        var mode = Scalar(source, root, "mode", required: false) ?? "extend";
        if (mode is not ("extend" or "replace"))
        {
            throw new PlaybookException(source, Line(root, "mode"), $"mode must be \"extend\" or \"replace\", not \"{mode}\".");
        }

        if (!root.Children.TryGetValue(new YamlScalarNode("steps"), out var stepsNode) || stepsNode is not YamlSequenceNode steps)
        {
            throw new PlaybookException(source, root.Start.Line, "\"steps\" must be a list of steps.");
        }

        var parsed = new List<PlaybookStep>();
        foreach (var node in steps)
        {
            if (node is not YamlMappingNode step)
            {
                throw new PlaybookException(source, node.Start.Line, "each step must be a mapping with key, title, why, owner and due.");
            }

            var parsedStep = Step(source, step);
            if (parsed.Any(p => p.Key == parsedStep.Key))
            {
                throw new PlaybookException(source, Line(step, "key"), $"the key \"{parsedStep.Key}\" is used twice.");
            }

            parsed.Add(parsedStep);
        }

        if (mode == "replace" && parsed.Count == 0)
        {
            throw new PlaybookException(source, stepsNode.Start.Line, "a replacing playbook needs at least one step.");
        }

        return mode == "replace" ? new Playbook(parsed) : basePlaybook.ExtendWith(parsed);
    }

    private static PlaybookStep Step(string source, YamlMappingNode step)
    {
        Unknown(source, step, StepFields);
        var key = Scalar(source, step, "key", required: true)!;
        if (!KeyPattern().IsMatch(key))
        {
            throw new PlaybookException(source, Line(step, "key"), $"key \"{key}\" may hold only lower-case letters, digits and dashes.");
        }

        var ownerText = Scalar(source, step, "owner", required: true);
        if (!OwnerRoles.TryParse(ownerText, out var owner))
        {
            throw new PlaybookException(source, Line(step, "owner"),
                $"owner \"{ownerText}\" is not one of {string.Join(", ", Enum.GetValues<OwnerRole>().Select(r => r.Key()))}.");
        }

        var dueText = Scalar(source, step, "due", required: true)!;
        if (!TryParseDuration(dueText, out var due))
        {
            throw new PlaybookException(source, Line(step, "due"), $"due \"{dueText}\" is not a duration such as 30m, 24h, 3d or 2w.");
        }

        var when = StepCondition.Always;
        if (step.Children.TryGetValue(new YamlScalarNode("when"), out var whenNode))
        {
            if (whenNode is not YamlMappingNode whenMap)
            {
                throw new PlaybookException(source, whenNode.Start.Line, "when must be a mapping (minSeverity, personalMailboxes, reExposed, repliedToAll, sensitive).");
            }

            Unknown(source, whenMap, WhenFields);
            Severity? minSeverity = null;
            if (Scalar(source, whenMap, "minSeverity", required: false) is { } s)
            {
                if (!SeverityNames.TryParse(s, out var parsed))
                {
                    throw new PlaybookException(source, Line(whenMap, "minSeverity"), $"minSeverity \"{s}\" is not one of low, medium, high, critical.");
                }

                minSeverity = parsed;
            }

            when = new StepCondition(minSeverity, Bool(source, whenMap, "personalMailboxes"), Bool(source, whenMap, "reExposed"), Bool(source, whenMap, "repliedToAll"), Bool(source, whenMap, "sensitive"));
        }

        return new PlaybookStep(
            key,
            Scalar(source, step, "title", required: true)!,
            Scalar(source, step, "why", required: true)!,
            owner,
            due,
            when,
            Scalar(source, step, "instructions", required: false));
    }

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(text?.Trim() ?? "");
        if (!match.Success)
        {
            return false;
        }

        var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        duration = match.Groups["unit"].Value switch
        {
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
        return duration > TimeSpan.Zero;
    }

    private static void Unknown(string source, YamlMappingNode map, string[] allowed)
    {
        foreach (var (name, _) in map.Children)
        {
            var text = (name as YamlScalarNode)?.Value;
            if (text is null || !allowed.Contains(text, StringComparer.Ordinal))
            {
                throw new PlaybookException(source, name.Start.Line, $"unknown field \"{text}\"; expected one of {string.Join(", ", allowed)}.");
            }
        }
    }

    private static string? Scalar(string source, YamlMappingNode map, string name, bool required)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(name), out var node))
        {
            return required ? throw new PlaybookException(source, map.Start.Line, $"the step has no \"{name}\".") : null;
        }

        if (node is not YamlScalarNode scalar || string.IsNullOrWhiteSpace(scalar.Value))
        {
            throw new PlaybookException(source, node.Start.Line, $"\"{name}\" must be a non-empty text.");
        }

        return scalar.Value.Trim();
    }

    private static bool? Bool(string source, YamlMappingNode map, string name)
    {
        var text = Scalar(source, map, name, required: false);
        return text switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw new PlaybookException(source, Line(map, name), $"\"{name}\" must be true or false, not \"{text}\"."),
        };
    }

    private static long Line(YamlMappingNode map, string name) =>
        map.Children.TryGetValue(new YamlScalarNode(name), out var node) ? node.Start.Line : map.Start.Line;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)\s*(?<unit>[mhdw])$")]
    private static partial Regex DurationPattern();
}
