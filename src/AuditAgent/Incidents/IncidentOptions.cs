using AuditAgent.Configuration;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using Microsoft.Extensions.Options;

namespace AuditAgent.Incidents;

/// <summary>Section "Incidents": severity bands, grouping and re-exposure windows, suppression, playbook.</summary>
public sealed class IncidentOptions
{
    public const string Section = "Incidents";

    public int MediumFrom { get; set; } = 25;

    public int HighFrom { get; set; } = 100;

    public double PersonalShareToRaise { get; set; } = 0.25;

    [Within(1, 24 * 14)]
    public int GroupingWindowHours { get; set; } = 24;

    [Within(1, 365)]
    public int ReExposureWindowDays { get; set; } = 30;

    public double ReExposureShare { get; set; } = 0.5;

    [Within(1, 3650)]
    public int RepeatSenderWindowDays { get; set; } = 90;

    /// <summary>Open incidents younger than this are watched for replies to all in their conversation (0 turns the watch off).</summary>
    [Within(0, 365)]
    public int ReplyWatchDays { get; set; } = 14;

    public bool SuppressSingleOrganisation { get; set; } = true;

    /// <summary>A YAML or JSON playbook that extends or replaces the default one.</summary>
    public string? PlaybookFile { get; set; }

    /// <summary>The consumer mailbox domains list; the shipped consumer-domains.txt when not set.</summary>
    public string? ConsumerDomainsFile { get; set; }

    public IncidentRules ToRules() => new()
    {
        MediumFrom = MediumFrom,
        HighFrom = HighFrom,
        PersonalShareToRaise = PersonalShareToRaise,
        GroupingWindow = TimeSpan.FromHours(GroupingWindowHours),
        ReExposureWindow = TimeSpan.FromDays(ReExposureWindowDays),
        ReExposureShare = ReExposureShare,
        RepeatSenderWindow = TimeSpan.FromDays(RepeatSenderWindowDays),
        SuppressSingleOrganisation = SuppressSingleOrganisation,
    };

    public string ConsumerDomainsPath => ConsumerDomainsFile is { Length: > 0 } file
        ? Path.GetFullPath(file)
        : Path.Combine(AppContext.BaseDirectory, "consumer-domains.txt");

    /// <summary>The default playbook, extended or replaced by <see cref="PlaybookFile"/>.</summary>
    public Playbook LoadPlaybook()
    {
        if (PlaybookFile is not { Length: > 0 } file)
        {
            return DefaultPlaybook.Instance;
        }

        var path = Path.GetFullPath(file);
        return PlaybookParser.Parse(File.ReadAllText(path), Path.GetFileName(path), DefaultPlaybook.Instance);
    }

    public ConsumerDomains LoadConsumerDomains() => ConsumerDomains.Parse(File.ReadAllText(ConsumerDomainsPath));
}

[OptionsValidator]
internal sealed partial class IncidentOptionsValidator : IValidateOptions<IncidentOptions>;

/// <summary>The rules across keys (severity bands, shares) and the files the section names: a bad playbook is refused with its line.</summary>
internal sealed class IncidentRulesValidator : IValidateOptions<IncidentOptions>
{
    public ValidateOptionsResult Validate(string? name, IncidentOptions o)
    {
        const string S = IncidentOptions.Section;
        var errors = new List<string>();
        if (o.MediumFrom < 1)
        {
            errors.Add($"{S}:MediumFrom must be at least 1 (it is {o.MediumFrom}).");
        }

        if (o.HighFrom <= o.MediumFrom)
        {
            errors.Add($"{S}:HighFrom must be greater than {S}:MediumFrom ({o.HighFrom} is not greater than {o.MediumFrom}).");
        }

        if (o.PersonalShareToRaise is <= 0 or > 1)
        {
            errors.Add($"{S}:PersonalShareToRaise must be above 0 and at most 1 (it is {o.PersonalShareToRaise}).");
        }

        if (o.ReExposureShare is <= 0 or > 1)
        {
            errors.Add($"{S}:ReExposureShare must be above 0 and at most 1 (it is {o.ReExposureShare}).");
        }




        if (!File.Exists(o.ConsumerDomainsPath))
        {
            errors.Add($"{S}:ConsumerDomainsFile: {o.ConsumerDomainsPath} does not exist.");
        }

        if (o.PlaybookFile is { Length: > 0 } file)
        {
            try
            {
                o.LoadPlaybook();
            }
            catch (PlaybookException ex)
            {
                errors.Add($"{S}:PlaybookFile {ex.Message}");
            }
            catch (IOException ex)
            {
                errors.Add($"{S}:PlaybookFile: cannot read {Path.GetFullPath(file)}: {ex.Message}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
