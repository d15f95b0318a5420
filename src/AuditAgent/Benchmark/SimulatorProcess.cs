using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AuditAgent.Benchmark;

/// <summary>
/// The tenant simulator in its own process, started from this same executable, so that a benchmark measures the
/// agent's CPU and memory apart from the simulator's. Killed with its process tree when disposed.
/// </summary>
internal sealed partial record SimulatorProcess(Process Process, string BaseUrl, string Token) : IDisposable
{
    private static readonly string[] Command = ["simulator", "--port", "0"];

    /// <summary>Scheme, host and port, where the /_simulator controls are.</summary>
    public string Root => BaseUrl[..^"/v1.0".Length];

    /// <param name="arguments">The `simulator` command's options (the port is always a free one).</param>
    public static async Task<SimulatorProcess> StartAsync(IEnumerable<string> arguments, CancellationToken ct)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet auditagent.dll`: the same dll (a single-file build is its own executable and never gets here).
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(SimulatorProcess).Assembly.GetName().Name + ".dll"));
        }

        foreach (var arg in Command.Concat(arguments))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        string? baseUrl = null, token = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while ((baseUrl is null || token is null) && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            baseUrl ??= Listening().Match(line) is { Success: true } m ? m.Groups["url"].Value : null;
            token ??= line.Contains("ACCESSTOKEN=", StringComparison.Ordinal) ? line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim() : null;
        }

        if (baseUrl is null || token is null)
        {
            throw new InvalidOperationException("The simulator did not start: " + await process.StandardError.ReadToEndAsync(ct));
        }

        return new SimulatorProcess(process, baseUrl, token);
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    [GeneratedRegex(@"listening at (?<url>http://\S+/v1\.0)")]
    private static partial Regex Listening();
}
