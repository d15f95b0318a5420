using System.Diagnostics;
using OpenTelemetry;

namespace AuditAgent.Telemetry;

/// <summary>
/// HTTP spans name the URL they called, and a URL can name a person (/users/ann@contoso.com/sendMail) or hold a
/// secret (a Teams or webhook URL). Before any exporter sees a span: a Graph URL keeps its shape with the user and
/// message segments replaced and no query; any other URL keeps only its scheme, host and port.
/// </summary>
/// <param name="graphOrigin">Graph's host and port (the simulator's, in the demo).</param>
internal sealed class UrlRedaction(string graphOrigin) : BaseProcessor<Activity>
{
    private static readonly string[] UrlTags = ["url.full", "http.url"];

    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var tag in UrlTags)
        {
            if (data.GetTagItem(tag) is string url)
            {
                data.SetTag(tag, Redact(url, graphOrigin));
            }
        }

        data.SetTag("url.query", null);
        data.SetTag("url.path", null);
        data.SetTag("http.target", null);
    }

    public static string Redact(string url, string graphOrigin)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "";
        }

        var origin = uri.GetLeftPart(UriPartial.Authority);
        if (!uri.Authority.Equals(graphOrigin, StringComparison.OrdinalIgnoreCase))
        {
            return origin + "/";
        }

        var segments = uri.AbsolutePath.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var previous = segments[i - 1];
            if (previous.Equals("users", StringComparison.OrdinalIgnoreCase))
            {
                segments[i] = "{user}";
            }
            else if ((previous.Equals("messages", StringComparison.OrdinalIgnoreCase) && !segments[i].Equals("delta", StringComparison.OrdinalIgnoreCase))
                || previous.Equals("manager", StringComparison.OrdinalIgnoreCase))
            {
                segments[i] = "{id}";
            }
        }

        return origin + string.Join('/', segments);
    }
}
