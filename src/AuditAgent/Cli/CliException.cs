namespace AuditAgent.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int PartialScan = 3;
    public const int Cancelled = 130;
}

/// <summary>A failure the user can fix; printed as one line, without a stack trace.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
