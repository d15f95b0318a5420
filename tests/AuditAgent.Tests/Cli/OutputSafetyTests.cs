using System.Diagnostics;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Cli;

/// <summary>
/// What leaves the agent as files and text: a subject written by an attacker (formulas, escape codes,
/// right-to-left overrides, a megabyte of text) stays inert and short, files holding personal data are
/// the owner's alone, and a database on a read-only mount can still be read.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OutputSafetyTests
{
    private const string Hostile = "=HYPERLINK(\"http://evil\")\u001b[31m\u0007\r\u202Etxt.exe";

    private static async Task<AgentHarness> OneIncidentAsync(string subject)
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), subject, Now.AddDays(-1), People(12, Companies));
        var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        return agent;
    }

    [Fact]
    public async Task FindingsCsv_HostileSubject_IsNeitherAFormulaNorCarriesControlCharacters()
    {
        await using var agent = await OneIncidentAsync(Hostile);

        var (code, csv, _) = await Commands.RunAsync("findings", "list", "--format", "csv", "--db", agent.DatabasePath);

        Assert.Equal(0, code);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil\"\")[31mtxt.exe\",", csv, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', csv);
        Assert.DoesNotContain('\u0007', csv);
        Assert.DoesNotContain('\u202E', csv);
        Assert.Equal(2, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task HtmlExport_HostileSubject_IsEncodedIsolatedAndStrippedOfControls()
    {
        await using var agent = await OneIncidentAsync(Hostile + "<script>");

        var (code, html, _) = await Commands.RunAsync("incidents", "export", "1", "--format", "html", "--db", agent.DatabasePath);

        Assert.Equal(0, code);
        Assert.Contains("<bdi>=HYPERLINK(&quot;http://evil&quot;)[31mtxt.exe&lt;script&gt;</bdi>", html, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', html);
        Assert.DoesNotContain('\u202E', html);
    }

    [Fact]
    public async Task DigestAndExport_SubjectOfAMegabyte_AreCutToAFewHundredCharacters()
    {
        await using var agent = await OneIncidentAsync("Price list " + new string('x', 1_000_000));
        using var folder = new TempFolder();

        var digest = await Commands.RunAsync("digest", "--preview", "--out", Path.Combine(folder.Path, "digest.html"), "--db", agent.DatabasePath);
        var export = await Commands.RunAsync("incidents", "export", "1", "--format", "json", "--db", agent.DatabasePath);

        Assert.Equal(0, digest.ExitCode);
        Assert.InRange(new FileInfo(Path.Combine(folder.Path, "digest.html")).Length, 1, 100_000);
        Assert.InRange(new FileInfo(Path.Combine(folder.Path, "digest.txt")).Length, 1, 20_000);
        Assert.InRange(export.Output.Length, 1, 20_000);
        Assert.Contains("Price list xxx", export.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportOut_IsOwnerOnly_RefusesToOverwriteWithoutForce_AndNeverFollowsASymlink()
    {
        await using var agent = await OneIncidentAsync("Price list");
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "evidence.md");
        var target = Path.Combine(folder.Path, "elsewhere.txt");
        await File.WriteAllTextAsync(target, "keep me");
        var link = Path.Combine(folder.Path, "link.md");
        File.CreateSymbolicLink(link, target);

        var first = await Commands.RunAsync("incidents", "export", "1", "--include-recipients", "--out", file, "--db", agent.DatabasePath);
        var again = await Commands.RunAsync("incidents", "export", "1", "--out", file, "--db", agent.DatabasePath);
        var forced = await Commands.RunAsync("incidents", "export", "1", "--out", file, "--force", "--db", agent.DatabasePath);
        var throughLink = await Commands.RunAsync("incidents", "export", "1", "--out", link, "--force", "--db", agent.DatabasePath);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already exists; pass --force", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, forced.ExitCode);
        Assert.DoesNotContain("## Exposed recipients", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(2, throughLink.ExitCode);
        Assert.Contains("is a symbolic link", throughLink.Error, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task DigestPreview_OutNamedTxt_WritesTheHtmlAndTheTextToTwoFiles()
    {
        await using var agent = await OneIncidentAsync("Price list");
        using var folder = new TempFolder();

        var (code, output, _) = await Commands.RunAsync("digest", "--preview", "--out", Path.Combine(folder.Path, "x.txt"), "--db", agent.DatabasePath);

        Assert.Equal(0, code);
        Assert.Contains($"Wrote {Path.Combine(folder.Path, "x.html")} and {Path.Combine(folder.Path, "x.txt")}", output, StringComparison.Ordinal);
        Assert.StartsWith("<!DOCTYPE html>", (await File.ReadAllTextAsync(Path.Combine(folder.Path, "x.html"))).TrimStart(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<html", await File.ReadAllTextAsync(Path.Combine(folder.Path, "x.txt")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Doctor_DatabaseReadableByOthers_FailsWithTheChmodFix()
    {
        await using var agent = await OneIncidentAsync("Price list");
        File.SetUnixFileMode(agent.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var doctor = await Commands.RunAsync("doctor", "--db", agent.DatabasePath);
        var list = await Commands.RunAsync("findings", "list", "--db", agent.DatabasePath);

        Assert.Contains("can be read by other users (mode 644)", doctor.Output, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 {agent.DatabasePath}", doctor.Output, StringComparison.Ordinal);
        Assert.Contains("warning:", list.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ReadOnlyDatabase_ReadCommandsWork_AndAWriteSaysReadOnly()
    {
        // Root writes anywhere, so the commands run as the unprivileged user "nobody", for whom the file and
        // its folder are read-only (as on a read-only mount: no WAL index can be created beside the file).
        Skip.IfNot(Environment.UserName == "root" && File.Exists("/usr/sbin/runuser"), "needs root to run a command as another user");
        await using var agent = await OneIncidentAsync("Price list");
        await agent.RestartAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var folder = Path.GetDirectoryName(agent.DatabasePath)!;
        File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(agent.DatabasePath, (UnixFileMode)Convert.ToInt32("644", 8));

        var list = await AsNobodyAsync("findings", "list", "--format", "json", "--db", agent.DatabasePath);
        var show = await AsNobodyAsync("incidents", "show", "1", "--db", agent.DatabasePath);
        var ack = await AsNobodyAsync("incidents", "ack", "1", "--by", "sam", "--db", agent.DatabasePath);

        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("\"subject\": \"Price list\"", list.Output, StringComparison.Ordinal);
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Equal(1, ack.ExitCode);
        Assert.Contains("is read-only here", ack.Error, StringComparison.Ordinal);
        Assert.Equal("new", (await agent.IncidentAsync(1)).Incident.Status);
    }

    private static async Task<(int ExitCode, string Output, string Error)> AsNobodyAsync(params string[] args)
    {
        var start = new ProcessStartInfo("runuser") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/tmp" };
        foreach (var arg in (string[])["-u", "nobody", "--", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp", "dotnet", "exec", AgentProcess.AgentDll, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
