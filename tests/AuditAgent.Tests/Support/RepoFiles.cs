namespace AuditAgent.Tests.Support;

/// <summary>Files of the repository itself (README examples, sample configuration), found from the test folder up.</summary>
public static class RepoFiles
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "AuditAgent.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new DirectoryNotFoundException("AuditAgent.sln not found above the test folder");
        }
    }

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);
}
