using System.Diagnostics;

namespace AuditAgent.Tests.Support;

/// <summary>Runs the real auditagent executable as a child process, configured through environment variables.</summary>
public static class AgentProcess
{
    public static string AgentDll => typeof(AuditAgent.Cli.CommandLine).Assembly.Location;

    public static Process Start(IReadOnlyDictionary<string, string?> settings, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(AgentDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // `run` serves the console too: on a free port, so that several agents can run side by side.
        start.Environment["AUDITAGENT__WEB__URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in settings)
        {
            start.Environment["AUDITAGENT__" + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the agent");
    }

    /// <summary>Runs to completion and returns the exit code with everything it printed.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyDictionary<string, string?> settings, string workingDirectory, params string[] args)
    {
        using var process = Start(settings, workingDirectory, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
