using AuditAgent.Core.Incidents;

namespace AuditAgent.Core.Playbooks;

/// <summary>Who is expected to carry out a plan step.</summary>
public enum OwnerRole
{
    Sender,
    Manager,
    Security,
    PrivacyOfficer,
    Communications,
}

/// <summary>When a step applies. Every condition given must hold.</summary>
public sealed record StepCondition(Severity? MinSeverity = null, bool? PersonalMailboxes = null, bool? ReExposed = null, bool? RepliedToAll = null, bool? Sensitive = null)
{
    public static StepCondition Always { get; } = new();

    public bool Holds(PlanFacts facts) =>
        (MinSeverity is null || facts.Severity >= MinSeverity)
        && (PersonalMailboxes is null || (facts.PersonalCount > 0) == PersonalMailboxes)
        && (ReExposed is null || facts.ReExposed == ReExposed)
        && (RepliedToAll is null || (facts.ReplyAllCount > 0) == RepliedToAll)
        && (Sensitive is null || facts.Sensitive == Sensitive);

    public string Describe()
    {
        var parts = new List<string>();
        if (MinSeverity is { } s)
        {
            parts.Add($"severity {s.Name()} or higher");
        }

        if (PersonalMailboxes is { } p)
        {
            parts.Add(p ? "personal mailboxes were exposed" : "no personal mailboxes were exposed");
        }

        if (ReExposed is { } r)
        {
            parts.Add(r ? "the recipients were exposed again" : "no re-exposure");
        }

        if (RepliedToAll is { } a)
        {
            parts.Add(a ? "someone replied to all" : "nobody replied to all");
        }

        if (Sensitive is { } sens)
        {
            parts.Add(sens ? "the list is sensitive" : "the list is not sensitive");
        }

        return parts.Count == 0 ? "always" : "when " + string.Join(" and ", parts);
    }
}

/// <summary>One step of a remediation playbook.</summary>
/// <param name="Why">One sentence: why the step matters.</param>
/// <param name="DueAfter">Due this long after the incident was detected (or after the event that added the step).</param>
/// <param name="Instructions">Exactly what to do: text, commands.</param>
public sealed record PlaybookStep(
    string Key,
    string Title,
    string Why,
    OwnerRole Owner,
    TimeSpan DueAfter,
    StepCondition When,
    string? Instructions = null);

/// <summary>What a playbook's conditions look at.</summary>
public sealed record PlanFacts(Severity Severity, int PersonalCount, bool ReExposed, int ReplyAllCount = 0, bool Sensitive = false);

/// <summary>An ordered list of steps; an incident's plan holds those whose condition holds.</summary>
public sealed record Playbook(IReadOnlyList<PlaybookStep> Steps)
{
    /// <summary>Steps from <paramref name="extension"/> replace steps with the same key and are appended otherwise.</summary>
    public Playbook ExtendWith(IReadOnlyList<PlaybookStep> extension)
    {
        ArgumentNullException.ThrowIfNull(extension);
        var byKey = extension.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var merged = Steps.Select(s => byKey.GetValueOrDefault(s.Key) ?? s).ToList();
        merged.AddRange(extension.Where(s => !Steps.Any(d => d.Key == s.Key)));
        return new Playbook(merged);
    }
}

public static class OwnerRoles
{
    public static string Name(this OwnerRole role) => role switch
    {
        OwnerRole.Sender => "sender",
        OwnerRole.Manager => "sender's manager",
        OwnerRole.Security => "security",
        OwnerRole.PrivacyOfficer => "privacy officer (DPO)",
        OwnerRole.Communications => "communications",
        _ => role.ToString(),
    };

    public static string Key(this OwnerRole role) => role switch
    {
        OwnerRole.Sender => "sender",
        OwnerRole.Manager => "manager",
        OwnerRole.Security => "security",
        OwnerRole.PrivacyOfficer => "dpo",
        OwnerRole.Communications => "communications",
        _ => role.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string? text, out OwnerRole role)
    {
        foreach (var candidate in Enum.GetValues<OwnerRole>())
        {
            if (string.Equals(candidate.Key(), text, StringComparison.OrdinalIgnoreCase)
                || string.Equals(candidate.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        }

        role = default;
        return false;
    }
}
