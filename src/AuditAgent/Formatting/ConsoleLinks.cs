namespace AuditAgent.Formatting;

/// <summary>
/// Links to the console's pages, built on Web:PublicUrl (the address people use, never a request's Host):
/// every face that names an incident (digest, escalation, export, status) takes its link from here.
/// </summary>
public sealed class ConsoleLinks
{
    public ConsoleLinks(string? publicUrl)
    {
        Root = Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? publicUrl!.TrimEnd('/') : null;
    }

    /// <summary>The console's address, or null when Web:PublicUrl is not set (then nothing links).</summary>
    public string? Root { get; }

    public string? Incident(long id) => Incident(Root, id);

    public static string? Incident(string? root, long id) => root is null ? null : $"{root}/incidents/{id}";
}
