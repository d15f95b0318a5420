using System.Diagnostics;
using OpenTelemetry;

namespace AuditAgent.Telemetry;

/// <summary>
/// HTTP spans name the URL they called, and a URL can name a person (/users/ann@contoso.com/sendMail) or hold a
/// secret (a Teams or webhook URL). Before any exporter sees a span: a Graph URL (/v1.0/... or /beta/...) keeps its
/// shape, each segment that is not one of Graph's own words becoming {user} or {id}, and no query; any other URL
/// keeps only its scheme, host and port. The same rule whatever the configuration, so that every tracer provider in
/// a process (each sees the same span) agrees, and applying it twice changes nothing.
/// </summary>
internal sealed class UrlRedaction : BaseProcessor<Activity>
{
    private static readonly string[] UrlTags = ["url.full", "http.url"];

    private static readonly HashSet<string> GraphWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "v1.0", "beta", "users", "mailFolders", "sentitems", "inbox", "messages", "delta", "delta()", "$batch", "domains", "manager",
        "mailboxSettings", "sendMail", "{user}", "{id}",
    };

    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var tag in UrlTags)
        {
            if (data.GetTagItem(tag) is string url)
            {
                data.SetTag(tag, Redact(url));
            }
        }

        data.SetTag("url.query", null);
        data.SetTag("url.path", null);
        data.SetTag("http.target", null);
    }

    public static string Redact(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "";
        }

        var origin = uri.GetLeftPart(UriPartial.Authority);
        var segments = uri.AbsolutePath.Split('/');
        if (segments.Length < 2 || segments[1] is not ("v1.0" or "beta"))
        {
            return origin + "/";
        }

        for (var i = 2; i < segments.Length; i++)
        {
            var word = Uri.UnescapeDataString(segments[i]);
            segments[i] = segments[i - 1].Equals("users", StringComparison.OrdinalIgnoreCase) ? "{user}" : GraphWords.Contains(word) ? word : "{id}";
        }

        return origin + string.Join('/', segments);
    }
}
