using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;

namespace AuditAgent.Events.Sinks;

/// <summary>
/// Syslog with CEF: each event an RFC 5424 message whose text is a CEF record, framed with octet counting
/// (RFC 6587) over TCP, or over TLS (RFC 5425). Up to 100 events per connection. Syslog has no
/// acknowledgement: an event counts as delivered when the receiver's TCP stack took all of the batch
/// and the connection closed cleanly.
/// </summary>
public sealed class SyslogSink(SyslogSinkOptions options, TimeProvider time) : IEventSink
{
    private static readonly string Version = typeof(SyslogSink).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0";

    public SinkOptions Options => options;

    public int BatchSize => 100;

    public async Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(options.Host, options.Port, timeout.Token);
            Stream stream = client.GetStream();
            if (options.Transport == SyslogTransport.Tls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(Tls(), timeout.Token);
            }

            await using (stream)
            {
                var frames = new StringBuilder();
                foreach (var e in events)
                {
                    var message = Message(e, options.Facility, time.GetUtcNow());
                    frames.Append(Encoding.UTF8.GetByteCount(message).ToString(CultureInfo.InvariantCulture)).Append(' ').Append(message);
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(frames.ToString()), timeout.Token);
                await stream.FlushAsync(timeout.Token);
                if (stream is SslStream ssl)
                {
                    await ssl.ShutdownAsync(); // close_notify: the receiver reads to the end before the socket closes
                }

                client.Client.Shutdown(SocketShutdown.Send);
            }

            return Delivery.Taken;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException && !ct.IsCancellationRequested)
        {
            return Delivery.Failed(ex);
        }
    }

    private SslClientAuthenticationOptions Tls()
    {
        var tls = new SslClientAuthenticationOptions { TargetHost = options.Host };
        if (options.CaFile is { Length: > 0 } caFile)
        {
            // Trust the receiver's private CA only (the machine's store is not consulted for this sink).
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            tls.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            tls.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }

        return tls;
    }

    /// <summary>The RFC 5424 message: <c>&lt;PRI&gt;1 TIMESTAMP HOST APP PROCID MSGID - CEF:0|...</c>.</summary>
    public static string Message(PublishedEvent e, int facility, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(e);
        var pri = (facility * 8) + SyslogSeverity(e);
        var host = Environment.MachineName is { Length: > 0 } name ? name : "-";
        return string.Create(CultureInfo.InvariantCulture,
            $"<{pri}>1 {now.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {host} auditagent {Environment.ProcessId} {e.Type} - {Cef(e)}");
    }

    /// <summary>The CEF record: <c>CEF:0|AuditAgent|AuditAgent|version|type|title|severity|extensions</c>.</summary>
    public static string Cef(PublishedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var i = e.Incident();
        var ext = new List<(string Key, string? Value)>
        {
            ("rt", e.OccurredAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
            ("externalId", e.Id.ToString(CultureInfo.InvariantCulture)),
            ("cat", e.Type),
        };
        if (i is not null)
        {
            ext.AddRange(
            [
                ("cn1", e.IncidentId?.ToString(CultureInfo.InvariantCulture)), ("cn1Label", "incidentId"),
                ("cn2", i.Number("exposed").ToString(CultureInfo.InvariantCulture)), ("cn2Label", "exposedPeople"),
                ("cn3", i.Number("personal").ToString(CultureInfo.InvariantCulture)), ("cn3Label", "privateMailboxes"),
                ("cs1", i.Number("domains").ToString(CultureInfo.InvariantCulture)), ("cs1Label", "organisations"),
                ("cs2", i.Text("status")), ("cs2Label", "status"),
                ("cs3", i.Text("severity")), ("cs3Label", "severity"),
                ("cs4", i.Text("assignee")), ("cs4Label", "assignee"),
                ("suser", i.Text("sender")),
            ]);
        }

        ext.Add(("cs5", e.Detail("mailbox") ?? e.Detail("agent")));
        ext.Add(("cs5Label", e.Detail("mailbox") is not null ? "mailbox" : e.Detail("agent") is not null ? "agent" : null));
        ext.Add(("request", e.Link));
        ext.Add(("msg", e.Subject is { } subject ? $"{e.Title()}: {subject}" : e.Detail("error") is { } error ? $"{e.Title()}: {error}" : e.Title()));
        var extensions = string.Join(' ', ext.Where(x => !string.IsNullOrEmpty(x.Value)).Select(x => $"{x.Key}={Extension(x.Value!)}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"CEF:0|AuditAgent|AuditAgent|{Header(Version)}|{Header(e.Type)}|{Header(e.Title())}|{CefSeverity(e)}|{extensions}");
    }

    /// <summary>CEF 0-10: low 3, medium 5, high 8, critical 10; events without an incident by what they mean.</summary>
    public static int CefSeverity(PublishedEvent e) => e.Severity() switch
    {
        Severity.Critical => 10,
        Severity.High => 8,
        Severity.Medium => 5,
        Severity.Low => 3,
        _ => e?.Type is EventTypes.ScanFailed or EventTypes.AgentLost ? 7 : 5,
    };

    /// <summary>RFC 5424 severity: critical 2 (crit), high 3 (err), medium 4 (warning), low 5 (notice); failures 3.</summary>
    private static int SyslogSeverity(PublishedEvent e) => e.Severity() switch
    {
        Severity.Critical => 2,
        Severity.High => 3,
        Severity.Medium => 4,
        Severity.Low => 5,
        _ => e.Type is EventTypes.ScanFailed or EventTypes.AgentLost or EventTypes.MailboxFailing ? 3 : 5,
    };

    /// <summary>In the header: backslash and pipe escaped, no line breaks.</summary>
    private static string Header(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    /// <summary>In an extension value: backslash and equals escaped, line breaks as \n.</summary>
    private static string Extension(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal)
            .Replace("\r\n", "\\n", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\n", StringComparison.Ordinal);
}
