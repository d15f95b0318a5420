using System.Diagnostics.Metrics;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Telemetry;

/// <summary>
/// The gauges that read the shared database rather than count this agent's work: time since the last successful
/// scan, failing mailboxes, mail waiting in the outbox, each event sink's backlog and dead letters, and whether the
/// database answers. One aggregate read every Telemetry:SampleSeconds, never on the exporter's thread.
/// </summary>
public sealed class BacklogSampler : BackgroundService
{
    private readonly StatusQueries _status;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<BacklogSampler> _logger;
    private volatile Sample? _last;

    public BacklogSampler(StatusQueries status, AgentMetrics metrics, IOptions<TelemetryOptions> options, TimeProvider time, ILogger<BacklogSampler> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        _status = status;
        _time = time;
        _logger = logger;
        _interval = TimeSpan.FromSeconds(options.Value.SampleSeconds);
        var meter = metrics.Meter;
        meter.CreateObservableGauge("auditagent.database.reachable", () => Observe(s => [new(s.Snapshot is null ? 0 : 1)]), "1",
            "1 when the last sample could read the database, 0 when it could not");
        meter.CreateObservableGauge("auditagent.scan.last_success_age", ObserveScanAge, "s",
            "Seconds since the last scan that did not fail finished (since the agent started, while none has)");
        meter.CreateObservableGauge("auditagent.mailboxes.failing", () => Observe(s => s.Snapshot is { } x ? [new(x.FailingMailboxes)] : []), "{mailbox}",
            "Mailboxes whose last read failed");
        meter.CreateObservableGauge("auditagent.outbox.messages", () => Observe(s => s.Snapshot is { } x
            ? x.Outbox.Select(o => new Measurement<long>(o.Value, new KeyValuePair<string, object?>("status", o.Key)))
            : []), "{message}", "Mail not yet sent, by status: pending and failed wait for the next fire, unknown for a person");
        meter.CreateObservableGauge("auditagent.events.backlog", () => Observe(s => s.Snapshot is { } x
            ? x.Sinks.Select(k => new Measurement<long>(k.Backlog, new KeyValuePair<string, object?>("sink", k.Name)))
            : []), "{event}", "Events written since each push sink's checkpoint");
        meter.CreateObservableGauge("auditagent.events.dead_letters", () => Observe(s => s.Snapshot is { } x
            ? x.Sinks.Select(k => new Measurement<long>(k.DeadLetters, new KeyValuePair<string, object?>("sink", k.Name)))
            : []), "{event}", "Events each push sink gave up on");
    }

    /// <summary>Reads the database once; the gauges report it until the next sample.</summary>
    public async Task SampleAsync(CancellationToken ct)
    {
        try
        {
            _last = new Sample(await _status.SnapshotAsync(ct));
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            _logger.TelemetrySampleFailed(ex.Message);
            _last = new Sample(null);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            await SampleAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private IEnumerable<Measurement<long>> Observe(Func<Sample, IEnumerable<Measurement<long>>> read) =>
        _last is { } sample ? read(sample) : [];

    private IEnumerable<Measurement<double>> ObserveScanAge()
    {
        if (_last is not { Snapshot: { } snapshot })
        {
            return [];
        }

        var since = snapshot.LastGoodScan ?? AgentInstance.ProcessStartedAt;
        return [new((_time.GetUtcNow() - since).TotalSeconds)];
    }

    /// <param name="Snapshot">Null when the database could not be read.</param>
    private sealed record Sample(OperationalSnapshot? Snapshot);
}
