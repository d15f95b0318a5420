using System.Diagnostics;
using System.Net;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Telemetry;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AuditAgent.Tests.Hosting;

/// <summary>
/// Metrics and traces are seen process-wide (every meter named AuditAgent, every span of the source), so these
/// tests run alone: another test's scan would add to the counts they compare exactly.
/// </summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryRunsAlone;

[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    [Fact]
    public async Task Scan_ReportsTheListedInstruments_WithPlausibleValues_AndNoAddressOrSubject()
    {
        var generated = Tenants.Tenant(mailboxes: 12, messages: 30, seed: 19);
        var throttledOnce = generated.ReadableMailboxes[3].Id;
        var exported = new Exported();
        await using var agent = await AgentHarness.StartAsync(generated.Tenant, new SimulatorOptions
        {
            Interceptor = op => op is { Kind: "delta", Sequence: 1 } && op.MailboxId == throttledOnce
                ? new SimFault(429, "ApplicationThrottled", "Too many requests.") { RetryAfter = "0.5" }
                : null,
        }, services: exported.Configure);
        Exported.Start(agent.Services);

        var result = await agent.ScanPipelineAsync();
        await agent.Services.GetRequiredService<BacklogSampler>().SampleAsync(CancellationToken.None);
        Exported.Flush(agent.Services);

        var (scan, incidents) = (result.Scan, result.Incidents);
        Assert.True(incidents.Opened > 0);
        Assert.Equal(1, exported.Sum("auditagent.scan.cycles", ("outcome", "succeeded")));
        Assert.Equal(scan.Mailboxes, exported.Sum("auditagent.scan.mailboxes"));
        Assert.Equal(generated.ReadableMailboxes.Count, exported.Sum("auditagent.scan.mailboxes", ("result", "scanned")));
        Assert.Equal(scan.Mailboxes - generated.ReadableMailboxes.Count, exported.Sum("auditagent.scan.mailboxes", ("result", "no_mailbox")));
        Assert.Equal(scan.Messages, exported.Sum("auditagent.scan.messages"));
        Assert.True(exported.Sum("auditagent.scan.pages") >= generated.ReadableMailboxes.Count);
        Assert.Equal(scan.NewFindings, exported.Sum("auditagent.scan.findings"));
        Assert.Equal(incidents.Opened, exported.Sum("auditagent.incidents.opened"));
        // Every attempt the agent counted is one the simulator answered, the throttled one included.
        Assert.Equal(agent.Simulator.Counters.HttpRequests, exported.Sum("auditagent.graph.requests"));
        Assert.Equal(1, exported.Sum("auditagent.graph.requests", ("http.response.status_code", 429)));
        Assert.Equal(1, exported.Sum("auditagent.graph.throttled", ("kind", "request")));
        Assert.Equal(0.5, exported.DoubleSum("auditagent.graph.retry_after"));

        var latency = exported.Histogram("auditagent.detection.latency");
        Assert.Equal(incidents.Opened, latency.Count);
        Assert.InRange(latency.Sum / latency.Count, 1, TimeSpan.FromDays(46).TotalSeconds);
        var duration = exported.Histogram("auditagent.scan.duration");
        Assert.Equal(1, duration.Count);
        Assert.InRange(duration.Sum, 0.001, 300);

        Assert.Equal(1, exported.Gauge("auditagent.database.reachable"));
        Assert.Equal(0, exported.Gauge("auditagent.mailboxes.failing"));
        Assert.InRange(exported.Gauge("auditagent.scan.last_success_age"), 0, 60);

        Assert.Single(exported.Spans, s => s.DisplayName == "scan cycle");
        var mailboxSpans = exported.Spans.Where(s => s.DisplayName == "scan mailbox").ToList();
        Assert.Equal(scan.Mailboxes, mailboxSpans.Count);
        Assert.Equal(scan.Messages, mailboxSpans.Sum(s => Convert.ToInt64(s.GetTagItem("auditagent.messages"), System.Globalization.CultureInfo.InvariantCulture)));
        // Graph calls nest under the mailbox they read, and name no mailbox.
        var mailboxIds = mailboxSpans.Select(s => s.SpanId).ToHashSet();
        var graphCalls = exported.Spans.Where(s => s.Kind == ActivityKind.Client && s.ParentSpanId != default && mailboxIds.Contains(s.ParentSpanId)).ToList();
        Assert.True(graphCalls.Count >= scan.Mailboxes);
        Assert.All(graphCalls, s => Assert.Contains("/users/{user}/", s.GetTagItem("url.full") as string, StringComparison.Ordinal));
        // A second pass follows when the reply watch found replies to all.
        Assert.Equal(incidents.Opened, exported.Spans.Where(s => s.DisplayName == "incidents process").Sum(s => (int)s.GetTagItem("auditagent.incidents.opened")!));
        Assert.Single(exported.Spans, s => s.DisplayName == "reply watch");

        var secrets = generated.Tenant.Users.SelectMany(u => new[] { u.Mail, u.UserPrincipalName, u.DisplayName, u.Id })
            .Concat(generated.Tenant.Users.SelectMany(u => u.SentItemsRange(0, 1000)).Select(m => m.Subject))
            .Where(x => x is { Length: > 3 }).Select(x => x!).ToHashSet(StringComparer.Ordinal);
        var values = exported.AttributeValues().ToList();
        Assert.NotEmpty(values);
        Assert.DoesNotContain(values, v => v.Contains('@', StringComparison.Ordinal) || secrets.Any(s => v.Contains(s, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task Console_ServesPrometheusMetrics_WithoutSignIn_IncludingAFailingJob()
    {
        var (tenant, _) = TenantBuilder.OneExposure("Spring newsletter");
        await using var agent = await AgentHarness.StartAsync(tenant);
        await using var site = await ConsoleSite.StartAsync(agent, new Dictionary<string, string?> { ["Telemetry:Prometheus"] = "true" });
        await site.Services.GetRequiredService<ScanPipeline>().RunAsync(null, CancellationToken.None);
        var runner = site.Services.GetRequiredService<JobRunner>();
        await Assert.ThrowsAsync<Quartz.JobExecutionException>(() => runner.RunAsync(JobNames.Digest, _ => throw new InvalidOperationException("the mail server refused"), CancellationToken.None).AsTask());
        await site.Services.GetRequiredService<BacklogSampler>().SampleAsync(CancellationToken.None);

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(site.BaseUrl + "/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("auditagent_scan_mailboxes_total{", text, StringComparison.Ordinal);
        Assert.Contains("auditagent_incidents_opened_total{", text, StringComparison.Ordinal);
        Assert.Matches("""auditagent_jobs_runs_total\{[^}]*auditagent_job="send-daily-digest"[^}]*outcome="failed"[^}]*\} 1""", text);
        Assert.Matches("""auditagent_scan_last_success_age_seconds(\{[^}]*\})? \d""", text);
        Assert.Contains("auditagent_detection_latency_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("@", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Readiness_AndTheDatabaseGauge_TurnWhenTheDatabaseStopsAnsweringAndComeBack()
    {
        Backends.Require(Backend.PostgreSql);
        var (tenant, _) = TenantBuilder.OneExposure("Spring newsletter");
        await using var agent = await AgentHarness.StartAsync(tenant, backend: Backend.PostgreSql);
        await agent.ScanAndProcessAsync();
        var exported = new Exported();
        await using var site = await ConsoleSite.StartAsync(agent, services: exported.Configure);
        Exported.Start(site.Services);
        var database = new NpgsqlConnectionStringBuilder(agent.Settings["Storage:ConnectionString"]).Database!;
        var sampler = site.Services.GetRequiredService<BacklogSampler>();
        using var http = new HttpClient();

        using var before = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));
        await SetConnectionsAsync(database, allowed: false);
        try
        {
            using var stopped = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));
            await sampler.SampleAsync(CancellationToken.None);
            Exported.Flush(site.Services);
            var gaugeWhileStopped = exported.Gauge("auditagent.database.reachable");

            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped.StatusCode);
            Assert.Contains("\"database\":\"unreachable\"", await stopped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(0, gaugeWhileStopped);
        }
        finally
        {
            await SetConnectionsAsync(database, allowed: true);
        }

        using var back = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task EveryInstrument_IsDocumentedWithItsUnit_AndTheDashboardAndAlertsUseOnlyThem()
    {
        var (tenant, _) = TenantBuilder.OneExposure("Spring newsletter");
        await using var agent = await AgentHarness.StartAsync(tenant);
        var metrics = agent.Services.GetRequiredService<AgentMetrics>();
        agent.Services.GetRequiredService<BacklogSampler>();
        var instruments = new List<System.Diagnostics.Metrics.Instrument>();
        using (var listener = new System.Diagnostics.Metrics.MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter == metrics.Meter)
                {
                    instruments.Add(instrument);
                }
            };
            listener.Start();
        }

        var docs = await File.ReadAllTextAsync(RepoFiles.Path("docs/operations.md"));
        var prometheusNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in instruments)
        {
            var kind = i.GetType().Name switch
            {
                var n when n.StartsWith("Counter", StringComparison.Ordinal) => "counter",
                var n when n.StartsWith("Histogram", StringComparison.Ordinal) => "histogram",
                _ => "gauge",
            };
            Assert.Contains($"| `{i.Name}` | {kind} | `{i.Unit}` |", docs, StringComparison.Ordinal);
            var name = i.Name.Replace('.', '_') + (i.Unit == "s" ? "_seconds" : "") + (kind == "counter" ? "_total" : "");
            prometheusNames.Add(name);
        }

        Assert.Equal(21, instruments.Count);
        var documented = System.Text.RegularExpressions.Regex.Matches(docs, @"\| `(auditagent\.[a-z_.]+)` \|").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(instruments.Select(i => i.Name).Order(), documented.Order());
        foreach (var file in new[] { "deploy/grafana/auditagent-dashboard.json", "deploy/prometheus/auditagent-alerts.yaml" })
        {
            var used = System.Text.RegularExpressions.Regex.Matches(await File.ReadAllTextAsync(RepoFiles.Path(file)), "auditagent_[a-z_]+")
                .Select(m => m.Value).Where(n => n != "auditagent_job")
                .Select(n => System.Text.RegularExpressions.Regex.Replace(n, "_(bucket|sum|count)$", "")).Distinct().ToList();
            Assert.NotEmpty(used);
            Assert.All(used, n => Assert.Contains(n, prometheusNames));
        }

        using var dashboard = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(RepoFiles.Path("deploy/grafana/auditagent-dashboard.json")));
        Assert.True(dashboard.RootElement.GetProperty("panels").GetArrayLength() >= 10);
        var rules = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, List<Dictionary<string, object>>>>(
            await File.ReadAllTextAsync(RepoFiles.Path("deploy/prometheus/auditagent-alerts.yaml")));
        var alerts = ((List<object>)rules["groups"][0]["rules"]).Cast<Dictionary<object, object>>().Select(r => (string)r["alert"]).ToList();
        Assert.Equal(["AuditAgentNoSuccessfulScan", "AuditAgentJobFailing", "AuditAgentBacklogGrowing"], alerts);
    }

    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0/users/ann@contoso.com/sendMail", "https://graph.microsoft.com/v1.0/users/{user}/sendMail")]
    [InlineData("https://graph.microsoft.com/v1.0/users/4f1c/mailFolders/sentitems/messages/delta?$select=subject&$deltatoken=abc", "https://graph.microsoft.com/v1.0/users/{user}/mailFolders/sentitems/messages/delta")]
    [InlineData("https://graph.microsoft.com/v1.0/users/4f1c/messages/AAMk%3D?$select=id", "https://graph.microsoft.com/v1.0/users/{user}/messages/{id}")]
    [InlineData("https://graph.microsoft.com/v1.0/users/4f1c/mailFolders/sentitems/messages/delta()?%24filter=x&%24select=id", "https://graph.microsoft.com/v1.0/users/{user}/mailFolders/sentitems/messages/delta()")]
    [InlineData("https://graph.microsoft.com/v1.0/$batch", "https://graph.microsoft.com/v1.0/$batch")]
    [InlineData("https://graph.microsoft.com/v1.0/users/{user}/mailFolders/sentitems/messages/delta", "https://graph.microsoft.com/v1.0/users/{user}/mailFolders/sentitems/messages/delta")]
    [InlineData("https://api.example.com/v1.0/hooks/s3cr3t-token", "https://api.example.com/v1.0/{id}/{id}")]
    [InlineData("https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRET", "https://prod-12.westeurope.logic.azure.com/")]
    [InlineData("http://127.0.0.1:5555/hooks/secret-token", "http://127.0.0.1:5555/")]
    public void SpanUrls_KeepGraphsShape_AndNothingOfOtherUrlsButTheirOrigin_AndRedactingTwiceChangesNothing(string url, string expected)
    {
        Assert.Equal(expected, UrlRedaction.Redact(url));
        Assert.Equal(expected, UrlRedaction.Redact(UrlRedaction.Redact(url)));
    }

    /// <summary>Takes a database out of reach as a stopped server would be: new connections refused, open ones ended.</summary>
    private static async Task SetConnectionsAsync(string database, bool allowed)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Backends.Server);
        await admin.OpenAsync();
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE {database} ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", admin))
        {
            await alter.ExecuteNonQueryAsync();
        }

        await using var end = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()", admin);
        end.Parameters.AddWithValue("database", database);
        await end.ExecuteNonQueryAsync();
    }

    /// <summary>What the in-memory exporters received, added beside the agent's own exporters.</summary>
    private sealed class Exported
    {
        private readonly List<MetricSnapshot> _metrics = [];

        public List<Activity> Spans { get; } = [];

        public void Configure(IServiceCollection services)
        {
            services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(_metrics));
            services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans));
        }

        /// <summary>Builds the providers, so that they listen before the work starts.</summary>
        public static void Start(IServiceProvider services)
        {
            services.GetRequiredService<MeterProvider>();
            services.GetRequiredService<TracerProvider>();
        }

        public static void Flush(IServiceProvider services)
        {
            services.GetRequiredService<TracerProvider>().ForceFlush();
            services.GetRequiredService<MeterProvider>().ForceFlush();
        }

        private IEnumerable<MetricPoint> Points(string name)
        {
            var last = _metrics.LastOrDefault(m => m.Name == name) ?? throw new Xunit.Sdk.XunitException($"no metric {name} among {string.Join(", ", _metrics.Select(m => m.Name).Distinct())}");
            return last.MetricPoints;
        }

        private static bool Has(MetricPoint p, (string Key, object Value)? tag)
        {
            if (tag is not { } t)
            {
                return true;
            }

            foreach (var kv in p.Tags)
            {
                if (kv.Key == t.Key && Equals(kv.Value?.ToString(), t.Value.ToString()))
                {
                    return true;
                }
            }

            return false;
        }

        public long Sum(string name, (string Key, object Value)? tag = null) => Points(name).Where(p => Has(p, tag)).Sum(p => p.GetSumLong());

        public double DoubleSum(string name) => Points(name).Sum(p => p.GetSumDouble());

        public double Gauge(string name)
        {
            var point = Points(name).Single();
            var last = _metrics.Last(m => m.Name == name);
            return last.MetricType == MetricType.LongGauge ? point.GetGaugeLastValueLong() : point.GetGaugeLastValueDouble();
        }

        public (long Count, double Sum) Histogram(string name)
        {
            var points = Points(name).ToList();
            return (points.Sum(p => p.GetHistogramCount()), points.Sum(p => p.GetHistogramSum()));
        }

        /// <summary>Every attribute value of every metric point and span.</summary>
        public IEnumerable<string> AttributeValues()
        {
            foreach (var m in _metrics)
            {
                foreach (var p in m.MetricPoints)
                {
                    foreach (var kv in p.Tags)
                    {
                        yield return kv.Value?.ToString() ?? "";
                    }
                }
            }

            foreach (var s in Spans)
            {
                yield return s.DisplayName;
                foreach (var kv in s.TagObjects)
                {
                    yield return kv.Value?.ToString() ?? "";
                }
            }
        }
    }
}
