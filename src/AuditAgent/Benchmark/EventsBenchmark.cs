using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AuditAgent.Events;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Benchmark;

public sealed record EventsBenchSettings(int Events, int Mailboxes, int MessagesPerMailbox, int Rounds);

/// <summary>A sink's throughput: events drained from a backlog, and how long it took.</summary>
public sealed record SinkThroughput(string Sink, int Events, double Seconds)
{
    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;
}

/// <summary>
/// Scan (with incident processing) wall times, each on a fresh database: sinks off; sinks on, getting the
/// scan's own events; and sinks on while they drain a backlog the whole time (the worst case).
/// </summary>
public sealed record ScanWithSinks(IReadOnlyList<double> OffSeconds, IReadOnlyList<double> OnSeconds, IReadOnlyList<double> BacklogSeconds)
{
    public double OffMedian => Median(OffSeconds);

    public double OnMedian => Median(OnSeconds);

    public double BacklogMedian => Median(BacklogSeconds);

    /// <summary>How much slower the scan was with sinks on, in percent of the scan with them off.</summary>
    public double SlowdownPercent => Percent(OnMedian);

    public double BacklogSlowdownPercent => Percent(BacklogMedian);

    private double Percent(double median) => OffMedian > 0 ? (median - OffMedian) / OffMedian * 100 : 0;

    private static double Median(IReadOnlyList<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);
}

public sealed record EventsBenchResult(EventsBenchSettings Settings, IReadOnlyList<SinkThroughput> Sinks, ScanWithSinks Scan, string Machine);

/// <summary>
/// `bench events`: a backlog of events drained by the webhook sink (to a receiver answering 204) and by the
/// syslog sink (to a TCP receiver reading octet-counted frames), each alone; then the scan of a simulated
/// tenant timed with the sinks off and with `run`'s push loop draining a backlog into both at the same time,
/// in alternating rounds.
/// Everything runs in this process on loopback: the receivers cost next to nothing, so the figures are the
/// agent's own cost of delivering.
/// </summary>
public sealed class EventsBenchmark(EventsBenchSettings settings, TextWriter log)
{
    private const string Snapshot = """{"schemaVersion":1,"incident":{"id":1,"severity":"high","status":"new","sender":"ruby.young@contoso.com","assignee":null,"exposed":124,"personal":37,"domains":41,"messages":1,"reExposed":false,"repeatSender":false,"firstSentAt":"2026-11-03T16:09:42+00:00","detectedAt":"2026-11-29T20:01:43.538+00:00","notificationDueAt":"2026-12-02T20:01:43.538+00:00"}}""";

    public async Task<EventsBenchResult> RunAsync(CancellationToken ct)
    {
        await using var webhook = await WebhookReceiver.StartAsync(ct);
        using var syslog = new SyslogReceiver();
        var sinks = new Dictionary<string, string?>
        {
            ["Events:PushEverySeconds"] = "1",
            ["Events:Sinks:Webhooks:0:Name"] = "webhook",
            ["Events:Sinks:Webhooks:0:Url"] = webhook.Url,
            ["Events:Sinks:Webhooks:0:Secrets:0"] = "whsec_" + Convert.ToBase64String(new byte[32]),
            ["Events:Sinks:Syslog:0:Name"] = "syslog",
            ["Events:Sinks:Syslog:0:Host"] = "127.0.0.1",
            ["Events:Sinks:Syslog:0:Port"] = syslog.Port.ToString(CultureInfo.InvariantCulture),
            ["Events:Sinks:Syslog:0:Transport"] = "Tcp",
        };

        var throughput = new List<SinkThroughput>();
        foreach (var sink in new[] { "webhook", "syslog" })
        {
            using var folder = new TempDirectory();
            var only = sinks.Where(kv => kv.Key.Contains($":{(sink == "webhook" ? "Webhooks" : "Syslog")}:", StringComparison.Ordinal)).ToDictionary();
            await using var services = Services(folder.Path, only);
            await PrepareBacklogAsync(services, settings.Events, ct);
            var pusher = services.GetRequiredService<EventPusher>();
            var watch = Stopwatch.StartNew();
            var sent = 0;
            for (int n; (n = await pusher.PushOnceAsync(ct)) > 0;)
            {
                sent += n;
            }

            throughput.Add(new SinkThroughput(sink, sent, watch.Elapsed.TotalSeconds));
            await log.WriteLineAsync($"{sink}: {sent} events in {watch.Elapsed.TotalSeconds:0.00} s ({throughput[^1].EventsPerSecond:0} events/s)");
        }

        var tenant = TenantGenerator.Generate(new GeneratorSettings { Mailboxes = settings.Mailboxes, MessagesPerMailbox = settings.MessagesPerMailbox, Seed = 11, Now = DateTimeOffset.UtcNow });
        await using var simulator = await SimulatorServer.StartAsync(tenant.Tenant, new SimulatorOptions(), ct);
        var (off, on, backlog) = (new List<double>(), new List<double>(), new List<double>());
        for (var round = 0; round < settings.Rounds; round++)
        {
            off.Add(await ScanAsync(simulator, null, backlog: false, ct));
            on.Add(await ScanAsync(simulator, sinks, backlog: false, ct));
            backlog.Add(await ScanAsync(simulator, sinks, backlog: true, ct));
            await log.WriteLineAsync($"round {round + 1}: scan {off[^1]:0.00} s with sinks off, {on[^1]:0.00} s on, {backlog[^1]:0.00} s on while draining {settings.Events} events");
        }

        return new EventsBenchResult(settings, throughput, new ScanWithSinks(off, on, backlog), $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
    }

    /// <summary>One scan and its incident processing on a fresh database, with `run`'s push loop when there are sinks (and a backlog for them when asked).</summary>
    private async Task<double> ScanAsync(SimulatorServer simulator, Dictionary<string, string?>? sinks, bool backlog, CancellationToken ct)
    {
        using var folder = new TempDirectory();
        var config = new Dictionary<string, string?>(sinks ?? [])
        {
            ["Graph:BaseUrl"] = simulator.BaseUrl,
            ["Graph:AccessToken"] = simulator.Token,
        };
        await using var services = Services(folder.Path, config);
        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        // `run`'s own push loop, every second (the shortest Events:PushEverySeconds).
        using var pushing = sinks is null ? null : ActivatorUtilities.CreateInstance<EventPushService>(services);
        if (pushing is not null)
        {
            await PrepareBacklogAsync(services, backlog ? settings.Events : 0, ct);
            await pushing.StartAsync(ct);
        }

        var watch = Stopwatch.StartNew();
        await services.GetRequiredService<ScanPipeline>().RunAsync(null, ct);
        var seconds = watch.Elapsed.TotalSeconds;
        if (pushing is not null)
        {
            await pushing.StopAsync(ct);
        }

        return seconds;
    }

    /// <summary>The sinks start (at the newest event), then a backlog of events is written behind them.</summary>
    private static async Task PrepareBacklogAsync(ServiceProvider services, int events, CancellationToken ct)
    {
        var database = services.GetRequiredService<Database>();
        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        foreach (var sink in services.GetRequiredService<SinkCatalog>().Sinks)
        {
            await services.GetRequiredService<SinkStore>().GetOrStartAsync(sink.Options.Name, ct);
        }

        if (events == 0)
        {
            return;
        }

        await using var c = await database.OpenAsync(ct);
        await c.ExecuteAsync(database.Command(
            $"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {events.ToString(CultureInfo.InvariantCulture)})
            INSERT INTO events (type, occurred_at, incident_id, payload) SELECT 'incident.opened', @at, NULL, @payload FROM n
            """,
            new { at = DateTimeOffset.UtcNow, payload = Snapshot }, ct: ct));
    }

    private static ServiceProvider Services(string folder, Dictionary<string, string?> config)
    {
        config["Storage:SqlitePath"] = Path.Combine(folder, "bench.db");
        config.TryAdd("Graph:BaseUrl", "http://127.0.0.1:9/v1.0"); // the throughput runs read no mailbox
        config.TryAdd("Graph:AccessToken", "unused");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Error));
        services.AddAuditAgent(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>Answers every POST with 204, as a webhook receiver that keeps up.</summary>
    private sealed class WebhookReceiver(WebApplication app) : IAsyncDisposable
    {
        public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

        public static async Task<WebhookReceiver> StartAsync(CancellationToken ct)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapPost("/hook", async (HttpContext context) =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                return Results.NoContent();
            });
            await app.StartAsync(ct);
            return new WebhookReceiver(app);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Accepts TCP connections and reads everything sent, as a syslog receiver that keeps up.</summary>
    private sealed class SyslogReceiver : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public SyslogReceiver()
        {
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            await client.GetStream().CopyToAsync(Stream.Null, _stop.Token);
                        }
                    });
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // stopped
            }
        }
    }
}
