namespace AuditAgent;

/// <summary>
/// Files and folders that hold personal data or keys (the database, the key file, mail copies, exports):
/// created readable by the agent's own user only, whatever the umask.
/// </summary>
public static class OwnerOnly
{
    private const UnixFileMode ReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Options to open a file for writing; a file this creates is the owner's alone.</summary>
    public static FileStreamOptions Write(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = ReadWrite;
        }

        return options;
    }

    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, ReadWrite | UnixFileMode.UserExecute);
        }
    }
}
