using AuditAgent.Cli;

namespace AuditAgent.Tests.Support;

/// <summary>The commands as a user runs them, in this process: arguments in, exit code and text out.</summary>
public static class Commands
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.InvokeAsync(args, new Terminal(output, error, interactive: false));
        return (code, output.ToString(), error.ToString());
    }
}
