using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuditAgent.Tests.Support;

/// <summary>
/// A real rsyslogd (Debian's package) in the foreground on a loopback port, receiving RFC 5424 over TCP
/// or TLS (a throwaway CA made here) and writing what it parsed, one message per line, to a file.
/// </summary>
public sealed class Rsyslog : IAsyncDisposable
{
    public const string Daemon = "/usr/sbin/rsyslogd";

    private readonly Process _process;
    private readonly TempFolder _folder;

    private Rsyslog(Process process, TempFolder folder, int port, string? caFile)
    {
        _process = process;
        _folder = folder;
        Port = port;
        CaFile = caFile;
    }

    public int Port { get; }

    /// <summary>The CA that signed the receiver's certificate (TLS only).</summary>
    public string? CaFile { get; }

    public string Output => Path.Combine(_folder.Path, "received.log");

    public static bool Installed => File.Exists(Daemon);

    public static async Task<Rsyslog> StartAsync(bool tls)
    {
        var folder = new TempFolder();
        var port = FreePort();
        string? ca = null;
        var global = $"global(workDirectory=\"{folder.Path}\"";
        var module = "module(load=\"imtcp\")";
        if (tls)
        {
            ca = Path.Combine(folder.Path, "ca.pem");
            WriteCertificates(folder.Path);
            global += $" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{ca}\" DefaultNetstreamDriverCertFile=\"{Path.Combine(folder.Path, "server.pem")}\" DefaultNetstreamDriverKeyFile=\"{Path.Combine(folder.Path, "server.key")}\"";
            module = "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")";
        }

        var conf = Path.Combine(folder.Path, "rsyslog.conf");
        await File.WriteAllTextAsync(conf, $"""
            {global})
            {module}
            template(name="fields" type="string" string="%syslogfacility%|%syslogseverity%|%app-name%|%msgid%|%msg%\n")
            input(type="imtcp" port="{port}" address="127.0.0.1")
            action(type="omfile" file="{Path.Combine(folder.Path, "received.log")}" template="fields")
            """);
        var start = new ProcessStartInfo(Daemon) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-n", "-f", conf, "-i", Path.Combine(folder.Path, "rsyslogd.pid") })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var rsyslog = new Rsyslog(process, folder, port, ca);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"rsyslogd exited: {await process.StandardError.ReadToEndAsync()}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return rsyslog; // listening
            }
            catch (SocketException)
            {
                await Task.Delay(20, deadline.Token); // not listening yet
            }
        }
    }

    /// <summary>The lines written so far, once there are at least <paramref name="count"/> (or what there is after 30 s).</summary>
    public async Task<IReadOnlyList<string[]>> ReceivedAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] lines = [];
        while (DateTime.UtcNow < deadline)
        {
            lines = File.Exists(Output) ? await File.ReadAllLinesAsync(Output) : [];
            if (lines.Length >= count)
            {
                break;
            }

            await Task.Delay(50);
        }

        return lines.Select(l => l.Split('|', 5)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A CA and a server certificate for localhost / 127.0.0.1 signed by it, as PEM files.</summary>
    private static void WriteCertificates(string folder)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=AuditAgent test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(6), RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(Path.Combine(folder, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "server.key"), key.ExportPkcs8PrivateKeyPem());
    }
}
