using System.CommandLine;

namespace AuditAgent.Cli;

/// <summary>
/// Files a command writes for the user (--out). They may hold personal data (exposed addresses,
/// subjects), so they are created readable by their owner only, whatever the umask; a symbolic link is
/// never followed (it could point anywhere), and an existing file is replaced only with --force.
/// </summary>
internal static class OutputFile
{
    public static Task WriteAsync(string path, string content, bool force, CancellationToken ct) =>
        WriteAsync(path, new System.Text.UTF8Encoding(false).GetBytes(content), force, ct);

    public static async Task WriteAsync(string path, byte[] content, bool force, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        var existing = new FileInfo(full);
        if (existing.LinkTarget is not null)
        {
            throw new CliException($"{full} is a symbolic link; not writing through it. Name the file itself.");
        }

        if (existing.Exists && !force)
        {
            throw new CliException($"{full} already exists; pass --force to replace it.");
        }

        var options = OwnerOnly.Write(force ? FileMode.Create : FileMode.CreateNew);

        await using (var stream = new FileStream(full, options))
        {
            await stream.WriteAsync(content, ct);
        }

        if (!OperatingSystem.IsWindows())
        {
            // A file replaced with --force keeps its old mode on open: narrow it too.
            File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static Option<bool> ForceOption() => new("--force") { Description = "Replace the --out file if it exists." };
}
