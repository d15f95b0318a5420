using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Benchmark;

/// <param name="Duration">How long exposures keep arriving; the run then waits for the last of them to be found.</param>
public sealed record LatencyBenchSettings(int Mailboxes, int MessagesPerMailbox, int LatencyMs, int Exposures, TimeSpan Duration, string ScanCron, string EscalationCron, int Seed);

/// <summary>Seconds, over the exposures measured.</summary>
public sealed record Percentiles(int Count, double P50, double P95, double Max)
{
    public static Percentiles Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Percentiles(0, 0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Percentiles(sorted.Length, At(0.5), At(0.95), sorted[^1]);
    }
}

public sealed record LatencyResult(
    LatencyBenchSettings Settings,
    int Injected,
    int Detected,
    Percentiles Detection,
    Percentiles Escalation,
    Percentiles CriticalEscalation,
    IReadOnlyDictionary<string, int> BySeverity,
    long ScanCycles,
    double FirstScanSeconds,
    double MeasuredHours,
    long GraphRequests,
    double RequestsPerMailboxPerHour,
    double BusiestMailboxPerHour,
    IReadOnlyDictionary<string, long> OperationsByKind,
    string Machine);

/// <summary>
/// The number a security team feels: the agent runs as `run` does (Quartz, the configured scan and escalation
/// schedules, mail through Graph), while exposures arrive in the simulator at random moments with sentDateTime
/// set to that moment. Reports the time from each message's sentDateTime to its incident being opened, and to its
/// escalation mail being sent, with the Graph requests per mailbox per hour that schedule costs.
/// </summary>
public sealed class LatencyBenchmark(LatencyBenchSettings settings, TextWriter log)
{
    private const string Never = "0 0 0 1 1 ? 2099";

    public async Task<LatencyResult> RunAsync(CancellationToken ct)
    {
        using var folder = new TempDirectory();
        using var simulator = await SimulatorProcess.StartAsync(
            ["--mailboxes", I(settings.Mailboxes), "--messages-per-mailbox", I(settings.MessagesPerMailbox), "--seed", I(settings.Seed), "--latency-ms", I(settings.LatencyMs)], ct);
        using var http = new HttpClient { BaseAddress = new Uri(simulator.Root) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", simulator.Token);
        // Escalations go out through Graph from the tenant's first mailbox, as from a security mailbox.
        var users = await http.GetFromJsonAsync<JsonElement>(new Uri("/v1.0/users?$top=1&$select=mail", UriKind.Relative), ct);
        var sender = users.GetProperty("value")[0].GetProperty("mail").GetString();
        var config = new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = simulator.BaseUrl,
            ["Graph:AccessToken"] = simulator.Token,
            ["Storage:SqlitePath"] = Path.Combine(folder.Path, "latency.db"),
            ["Schedule:ScanCron"] = settings.ScanCron,
            ["Schedule:EscalationCron"] = settings.EscalationCron,
            ["Schedule:DigestCron"] = Never,
            ["Schedule:PurgeCron"] = Never,
            ["Schedule:ApologyCron"] = Never,
            ["Notifications:Transport"] = "Graph",
            ["Notifications:SenderMailbox"] = sender,
            ["Notifications:FallbackEscalationContact"] = "security@contoso.com",
            ["Notifications:SecurityContact"] = "security@contoso.com",
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddAuditAgent(builder.Configuration);
        builder.Services.AddAuditAgentWorker(builder.Configuration);
        using var host = builder.Build();
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);

        // The first scan (30 days of every mailbox) is not what this measures: the agent starts in sync.
        await log.WriteLineAsync($"simulator: {settings.Mailboxes} mailboxes x {settings.MessagesPerMailbox} sent items, {settings.LatencyMs} ms latency; first scan...");
        var first = await host.Services.GetRequiredService<ScanPipeline>().RunAsync(null, ct);
        var firstSeconds = (first.Scan.FinishedAt - first.Scan.StartedAt).TotalSeconds;
        var runsBefore = await CountAsync(host, "SELECT COUNT(*) FROM scan_runs", ct);
        (await http.PostAsync(new Uri("/_simulator/reset", UriKind.Relative), null, ct)).EnsureSuccessStatusCode();

        await host.StartAsync(ct);
        var started = DateTimeOffset.UtcNow;
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"first scan {firstSeconds:0.0} s; the worker runs (scan '{settings.ScanCron}', escalation '{settings.EscalationCron}'); {settings.Exposures} exposures over {settings.Duration.TotalMinutes:0.#} minutes..."));
        var injected = await InjectAsync(http, ct);
        await log.WriteLineAsync("waiting for the last exposures to be found...");
        var detected = await WaitForIncidentsAsync(host, injected, ct);
        var escalations = await WaitForEscalationsAsync(host, detected, ct);
        var hours = (DateTimeOffset.UtcNow - started).TotalHours;
        var stats = await http.GetFromJsonAsync<JsonElement>(new Uri("/_simulator/stats", UriKind.Relative), ct);
        var requests = stats.GetProperty("httpRequests").GetInt64();
        // What Graph's per-mailbox limit counts: every operation on a mailbox, each $batch part on its own.
        var perMailbox = stats.GetProperty("operationsByMailbox").EnumerateObject().Select(m => m.Value.GetInt64()).ToList();
        var cycles = await CountAsync(host, "SELECT COUNT(*) FROM scan_runs", ct) - runsBefore;
        await host.StopAsync(CancellationToken.None);

        var sent = injected.ToDictionary(i => i.MessageId, i => i.SentDateTime, StringComparer.Ordinal);
        var detection = detected.Select(d => (d.DetectedAt - sent[d.MessageId]).TotalSeconds).ToList();
        var escalation = escalations.Select(e => (e.SentAt - sent[e.MessageId]).TotalSeconds).ToList();
        var critical = escalations.Where(e => e.Severity == "critical").Select(e => (e.SentAt - sent[e.MessageId]).TotalSeconds).ToList();
        return new LatencyResult(settings, injected.Count, detected.Count, Percentiles.Of(detection), Percentiles.Of(escalation), Percentiles.Of(critical),
            detected.GroupBy(d => d.Severity, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            cycles, firstSeconds, hours, requests, perMailbox.Sum() / (double)Math.Max(1, settings.Mailboxes) / hours, perMailbox.DefaultIfEmpty(0).Max() / hours,
            stats.GetProperty("operationsByKind").EnumerateObject().ToDictionary(k => k.Name, k => k.Value.GetInt64(), StringComparer.Ordinal),
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion}");
    }

    /// <summary>Exposures at random moments over the duration, each with 12 to 160 outside people in To.</summary>
    private async Task<List<Injected>> InjectAsync(HttpClient http, CancellationToken ct)
    {
        var rng = new Random(settings.Seed);
        var moments = Enumerable.Range(0, settings.Exposures).Select(_ => settings.Duration * rng.NextDouble()).Order().ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var injected = new List<Injected>();
        foreach (var (moment, i) in moments.Select((m, i) => (m, i)))
        {
            if (moment > clock.Elapsed)
            {
                await Task.Delay(moment - clock.Elapsed, ct);
            }

            var visible = 12 + rng.Next(149);
            var answer = await (await http.PostAsync(new Uri($"/_simulator/add-exposure?visible={I(visible)}&seed={I((settings.Seed * 100_000) + i)}", UriKind.Relative), null, ct))
                .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(ct);
            injected.Add(new Injected(answer.GetProperty("messageId").GetString()!, answer.GetProperty("sentDateTime").GetDateTimeOffset()));
        }

        return injected;
    }

    /// <summary>Polls the database until every injected message is part of an incident (or three scan intervals pass without progress).</summary>
    private static async Task<List<Detected>> WaitForIncidentsAsync(IHost host, List<Injected> injected, CancellationToken ct)
    {
        var database = host.Services.GetRequiredService<Database>();
        var ids = injected.Select(i => i.MessageId).ToList();
        List<Detected> found = [];
        var lastProgress = DateTimeOffset.UtcNow;
        while (true)
        {
            await using (var c = await database.OpenAsync(ct))
            {
                var rows = await c.QueryAsync<(string MessageId, DateTimeOffset DetectedAt, string Severity, long Incident)>(database.Command(
                    $"SELECT f.graph_message_id, i.detected_at, i.severity, i.id FROM findings f JOIN incidents i ON i.id = f.incident_id WHERE {database.InList("f.graph_message_id", "Ids")}",
                    new { Ids = ids }, ct: ct));
                var now = rows.Select(r => new Detected(r.MessageId, r.DetectedAt, r.Severity, r.Incident)).ToList();
                if (now.Count > found.Count)
                {
                    lastProgress = DateTimeOffset.UtcNow;
                }

                found = now;
            }

            if (found.Count == injected.Count || DateTimeOffset.UtcNow - lastProgress > TimeSpan.FromMinutes(3))
            {
                return found;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>The first escalation mail sent for each incident that has one (high and critical by default), once all are out.</summary>
    private static async Task<List<Escalated>> WaitForEscalationsAsync(IHost host, List<Detected> detected, CancellationToken ct)
    {
        var database = host.Services.GetRequiredService<Database>();
        var due = detected.Where(d => d.Severity is "high" or "critical").ToList();
        var incidents = due.Select(d => d.Incident).Distinct().ToList();
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            await using var c = await database.OpenAsync(ct);
            var sent = (await c.QueryAsync<(long Incident, DateTimeOffset SentAt)>(database.Command(
                $"SELECT incident_id, MIN(sent_at) FROM outbox WHERE kind = 'escalation' AND status = 'sent' AND {database.InList("incident_id", "Ids")} GROUP BY incident_id",
                new { Ids = incidents }, ct: ct))).ToDictionary(x => x.Incident, x => x.SentAt);
            if (sent.Count == incidents.Count || DateTimeOffset.UtcNow - started > TimeSpan.FromMinutes(3))
            {
                return due.Where(d => sent.ContainsKey(d.Incident)).Select(d => new Escalated(d.MessageId, sent[d.Incident], d.Severity)).ToList();
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private static async Task<long> CountAsync(IHost host, string sql, CancellationToken ct)
    {
        var database = host.Services.GetRequiredService<Database>();
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(database.Command(sql, ct: ct));
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record Injected(string MessageId, DateTimeOffset SentDateTime);

    private sealed record Detected(string MessageId, DateTimeOffset DetectedAt, string Severity, long Incident);

    private sealed record Escalated(string MessageId, DateTimeOffset SentAt, string Severity);
}
