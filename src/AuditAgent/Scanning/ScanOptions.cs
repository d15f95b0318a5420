using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Scanning;

/// <summary>Section "Scan": which mailboxes, how far back, how many at once.</summary>
public sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>The first sync of a mailbox reads this many days of Sent Items.</summary>
    [Within(1, 3650)]
    public int LookbackDays { get; set; } = 30;

    /// <summary>Mailboxes scanned at once. Each has at most one request in flight (Graph allows 4).</summary>
    [Within(1, 256)]
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
    [Within(2, 1000)]
    public int VisibleExternalThreshold { get; set; } = 10;
}

/// <summary>Section "Cluster": how agents sharing a PostgreSQL database split each scan cycle.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How long a mailbox lease lasts unless its agent renews it (every third of this).</summary>
    [Within(3, 3600)]
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>How often an idle agent checks in and looks for a cycle it can help with.</summary>
    [Within(1, 600)]
    public int PollSeconds { get; set; } = 15;
}

[OptionsValidator]
internal sealed partial class ScanOptionsValidator : IValidateOptions<ScanOptions>;

[OptionsValidator]
internal sealed partial class DetectionOptionsValidator : IValidateOptions<DetectionOptions>;

[OptionsValidator]
internal sealed partial class ClusterOptionsValidator : IValidateOptions<ClusterOptions>;
