namespace AuditAgent.Core.Scans;

/// <summary>How a scan run ended, as scan_runs records it and `status`, the digest and exit codes report it.</summary>
public enum ScanOutcome
{
    Running,

    /// <summary>Every mailbox was read.</summary>
    Succeeded,

    /// <summary>Some mailboxes failed; the others were read.</summary>
    Partial,

    /// <summary>Every mailbox failed, or the scan (or its incident processing) could not go on.</summary>
    Failed,

    /// <summary>Stopped (SIGTERM, Ctrl+C): what was read is committed and the next scan resumes.</summary>
    Cancelled,
}

public static class ScanOutcomes
{
    public static string Name(this ScanOutcome outcome) => outcome.ToString().ToLowerInvariant();

    /// <summary>The outcome of a scan that ran to its end.</summary>
    public static ScanOutcome Of(int mailboxes, int failed) =>
        failed == 0 ? ScanOutcome.Succeeded : failed >= mailboxes ? ScanOutcome.Failed : ScanOutcome.Partial;
}
