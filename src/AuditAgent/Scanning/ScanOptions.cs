using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Scanning;

/// <summary>Section "Scan": which mailboxes, how far back, how many at once.</summary>
public sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>The first sync of a mailbox reads this many days of Sent Items.</summary>
    public int LookbackDays { get; set; } = 30;

    /// <summary>Mailboxes scanned at once. Each has at most one request in flight (Graph allows 4).</summary>
    public int MaxParallelMailboxes { get; set; } = 16;

    /// <summary>Read the delta links of mailboxes already in sync through $batch, 20 per request.</summary>
    public bool BatchRescans { get; set; } = true;

    /// <summary>When not empty, only these mailboxes (address or user id) are scanned.</summary>
    public List<string> IncludeMailboxes { get; set; } = [];

    public List<string> ExcludeMailboxes { get; set; } = [];

    /// <summary>Domains treated as internal in addition to the tenant's verified domains.</summary>
    public List<string> InternalDomains { get; set; } = [];
}

/// <summary>Section "Detection".</summary>
public sealed class DetectionOptions
{
    public const string Section = "Detection";

    /// <summary>Distinct external addresses visible in To and Cc that make a message a finding.</summary>
    public int VisibleExternalThreshold { get; set; } = 10;
}

/// <summary>Section "Cluster": how agents sharing a PostgreSQL database split each scan cycle.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How long a mailbox lease lasts unless its agent renews it (every third of this).</summary>
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>How often an idle agent checks in and looks for a cycle it can help with.</summary>
    public int PollSeconds { get; set; } = 15;
}

internal sealed class ScanOptionsValidator : IValidateOptions<ScanOptions>
{
    public ValidateOptionsResult Validate(string? name, ScanOptions o)
    {
        var errors = new List<string>();
        if (o.LookbackDays is < 1 or > 3650)
        {
            errors.Add(OptionsValidation.Range(ScanOptions.Section, nameof(o.LookbackDays), o.LookbackDays, 1, 3650));
        }

        if (o.MaxParallelMailboxes is < 1 or > 256)
        {
            errors.Add(OptionsValidation.Range(ScanOptions.Section, nameof(o.MaxParallelMailboxes), o.MaxParallelMailboxes, 1, 256));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class DetectionOptionsValidator : IValidateOptions<DetectionOptions>
{
    public ValidateOptionsResult Validate(string? name, DetectionOptions o) =>
        o.VisibleExternalThreshold is < 2 or > 1000
            ? ValidateOptionsResult.Fail(OptionsValidation.Range(DetectionOptions.Section, nameof(o.VisibleExternalThreshold), o.VisibleExternalThreshold, 2, 1000))
            : ValidateOptionsResult.Success;
}

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions o)
    {
        var errors = new List<string>();
        if (o.LeaseSeconds is < 3 or > 3600)
        {
            errors.Add(OptionsValidation.Range(ClusterOptions.Section, nameof(o.LeaseSeconds), o.LeaseSeconds, 3, 3600));
        }

        if (o.PollSeconds is < 1 or > 600)
        {
            errors.Add(OptionsValidation.Range(ClusterOptions.Section, nameof(o.PollSeconds), o.PollSeconds, 1, 600));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
