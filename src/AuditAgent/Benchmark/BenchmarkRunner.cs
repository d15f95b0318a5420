using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;

namespace AuditAgent.Benchmark;

public sealed record BenchSettings(int Mailboxes, int MessagesPerMailbox, int LatencyMs, double FaultRate, int Seed, int BaselineMailboxes, int Parallel, int PageSize);

/// <summary>One measured phase: wall time, Graph traffic (from the simulator's counters), memory, findings.</summary>
public sealed record BenchPhase(
    string Name,
    double Seconds,
    long Messages,
    long HttpRequests,
    double RequestsPerMailbox,
    long BytesReceived,
    long PeakWorkingSetMb,
    long PeakManagedHeapMb,
    int Findings,
    double? StoreShare,
    double AgentCpuSeconds,
    double SimulatorCpuSeconds,
    string Note)
{
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    /// <summary>Bytes this process allocated during the phase (every thread: the agent, or the replay client).</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Gen0 collections during the phase (allocation volume over the gen0 budget).</summary>
    public int Gen0Collections { get; init; }

    /// <summary>Time this process's JIT spent compiling during the phase (every thread), and the methods it compiled.</summary>
    public double JitSeconds { get; init; }

    public long JitMethods { get; init; }

    public double AllocatedBytesPerMessage => Messages > 0 ? (double)AllocatedBytes / Messages : 0;
}

public sealed record BenchResult(BenchSettings Settings, int ScannedMailboxes, IReadOnlyList<BenchPhase> Phases, string LowerBound, double LowerBoundSeconds, long LowerBoundRequests, bool FindingsEqual, string Machine)
{
    /// <summary>Count-only rows kept for backtest after the first scan (one per message read), and their bytes on disk with indexes (SQLite).</summary>
    public long CountRows { get; init; }

    public long CountRowBytes { get; init; }

    public double CountRowBytesPerThousandMessages => CountRows > 0 ? CountRowBytes * 1000.0 / CountRows : 0;

    /// <summary>
    /// The replay client's phases: a bare HttpClient sending exactly the requests the agent sent in its first scan and
    /// its quiet rescan (same URLs, page size and concurrency), reading and discarding each body. Its wall time is
    /// the floor this machine and this simulator allow, the simulator's CPU included.
    /// </summary>
    public IReadOnlyList<BenchPhase> Replays { get; init; } = [];

    /// <summary>The agent's first scan and quiet rescan, each over the replay of its own requests.</summary>
    public double FirstScanToReplay => Replays.Count > 0 ? Phases[0].Seconds / Replays[0].Seconds : 0;

    public double RescanToReplay => Replays.Count > 1 ? Phases[1].Seconds / Replays[1].Seconds : 0;

    /// <summary>The agent's CPU time per message read in its first scan, in microseconds.</summary>
    public double AgentCpuMicrosecondsPerMessage => Phases[0].Messages > 0 ? Phases[0].AgentCpuSeconds * 1e6 / Phases[0].Messages : 0;

    /// <summary>
    /// The same first scan again in the same process, into a new database: the code is compiled by then, as in a
    /// service that has run a while. The difference from the first is the JIT's share of a fresh process.
    /// </summary>
    public BenchPhase? WarmFirstScan { get; init; }

    public double WarmAgentCpuMicrosecondsPerMessage => WarmFirstScan is { Messages: > 0 } w ? w.AgentCpuSeconds * 1e6 / w.Messages : 0;
}

/// <summary>
/// Measures the agent against the tenant simulator (in its own process, so only the agent's memory is
/// measured) in one run: a first scan, a rescan with no new mail, a rescan after 5% new mail, and the
/// obvious script: mailboxes one after another, the SDK's message listing with its default page size
/// and no $select, page by page.
/// </summary>
public sealed class BenchmarkRunner(BenchSettings settings, TextWriter log)
{
    private Process? _simulatorProcess;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<BenchResult> RunAsync(CancellationToken ct)
    {
        using var folder = new TempDirectory();
        using var simulator = await SimulatorProcess.StartAsync(
            ["--mailboxes", Invariant(settings.Mailboxes), "--messages-per-mailbox", Invariant(settings.MessagesPerMailbox), "--seed", Invariant(settings.Seed),
             "--latency-ms", Invariant(settings.LatencyMs), "--fault-rate", settings.FaultRate.ToString(CultureInfo.InvariantCulture), "--record-requests"], ct);
        await log.WriteLineAsync($"simulator: {simulator.BaseUrl}, {settings.Mailboxes} mailboxes x {settings.MessagesPerMailbox} sent items, {settings.LatencyMs} ms latency, fault rate {settings.FaultRate}");
        using var http = new HttpClient { BaseAddress = new Uri(simulator.Root) };
        var config = new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = simulator.BaseUrl,
            ["Graph:AccessToken"] = simulator.Token,
            ["Graph:PageSize"] = settings.PageSize.ToString(CultureInfo.InvariantCulture),
            ["Graph:RetryDelaySeconds"] = "1",
            ["Scan:MaxParallelMailboxes"] = settings.Parallel.ToString(CultureInfo.InvariantCulture),
            ["Storage:SqlitePath"] = Path.Combine(folder.Path, "bench.db"),
        };
        await using var services = Services(config);
        await services.GetRequiredService<Hosting.DatabaseMigrator>().MigrateAsync(ct);
        var scan = services.GetRequiredService<ScanService>();
        var phases = new List<BenchPhase>();

        _simulatorProcess = simulator.Process;
        await WarmUpSimulatorAsync(http, ct);
        ScanSummary? first = null;
        var replays = new List<BenchPhase>();
        phases.Add(await MeasureAsync("agent: first scan", http, async () => (first = await scan.RunAsync(null, ct)).Let(s => (s.Messages, s.NewFindings, Store(s))), ct));
        replays.Add(await ReplayAsync("replay: the first scan's requests", http, simulator.Token, phases[^1].Messages, ct));
        var warm = await WarmFirstScanAsync(config, folder.Path, http, ct);
        var mailboxes = first!.Mailboxes;
        var (countRows, countBytes) = await services.GetRequiredService<Database>().TableSizeAsync("message_stats", ct);
        phases.Add(await MeasureAsync("agent: rescan, no new mail", http, async () => (await scan.RunAsync(null, ct)).Let(s => (s.Messages, s.NewFindings, Store(s))), ct));
        replays.Add(await ReplayAsync("replay: the rescan's requests", http, simulator.Token, phases[^1].Messages, ct));
        var added = await (await http.PostAsync(new Uri($"/_simulator/add-mail?share=0.05&seed={settings.Seed}", UriKind.Relative), null, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        phases.Add(await MeasureAsync($"agent: rescan after 5% new mail ({added.GetProperty("added").GetInt32()} messages)", http,
            async () => (await scan.RunAsync(null, ct)).Let(s => (s.Messages, s.NewFindings, Store(s))), ct));

        // The baseline reads the same (first) mailboxes; its findings are compared with the agent's for those.
        // Domains, the users' pages, and one $batch asking for mailbox purposes (refused here: MailboxSettings.Read is optional).
        var directoryRequests = 2 + ((mailboxes + 998) / 999);
        var pagesPerMailbox = (int)Math.Ceiling(Math.Max(1, settings.MessagesPerMailbox) / 1000.0);
        var fewest = directoryRequests + (mailboxes * pagesPerMailbox);
        var boundSeconds = ((directoryRequests + ((double)mailboxes * pagesPerMailbox / settings.Parallel)) * settings.LatencyMs) / 1000.0;
        var bound = $"{fewest} requests; {boundSeconds:0.00} s = ({directoryRequests} directory requests + {mailboxes} mailboxes x {pagesPerMailbox} page / {settings.Parallel} in parallel) x {settings.LatencyMs} ms";
        if (settings.BaselineMailboxes <= 0)
        {
            return new BenchResult(settings, mailboxes, phases, bound, boundSeconds, fewest, true, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}") { CountRows = countRows, CountRowBytes = countBytes, Replays = replays, WarmFirstScan = warm };
        }

        var graph = services.GetRequiredService<GraphServiceClient>();
        var directory = services.GetRequiredService<GraphDirectory>();
        var sample = (await directory.GetMailboxesAsync(ct)).Take(settings.BaselineMailboxes).ToList();
        var internalDomains = new InternalDomains(await directory.GetVerifiedDomainsAsync(ct));
        var since = first.StartedAt.AddDays(-30);
        var baselineFindings = new HashSet<(string, string)>();
        var baseline = await MeasureAsync($"baseline: SDK listing, {sample.Count} mailboxes one by one", http, async () =>
        {
            long messages = 0;
            foreach (var mailbox in sample)
            {
                var page = await graph.Users[mailbox.Id].MailFolders["sentitems"].Messages.GetAsync(cancellationToken: ct);
                while (page is not null)
                {
                    foreach (var m in page.Value ?? [])
                    {
                        messages++;
                        var sent = m.SentDateTime ?? m.ReceivedDateTime;
                        if (m.Id is null || sent < since)
                        {
                            continue;
                        }

                        var message = new SentMessage(mailbox.Id, mailbox.Address, m.Id, m.InternetMessageId, m.ConversationId, m.Subject, sent,
                            R(m.From), R(m.Sender), Rs(m.ToRecipients), Rs(m.CcRecipients), Rs(m.BccRecipients));
                        if (ExposureDetector.Detect(message, internalDomains, new DetectionRules()).Finding is not null)
                        {
                            baselineFindings.Add((mailbox.Id, m.Id));
                        }
                    }

                    page = page.OdataNextLink is { } next ? await graph.Users[mailbox.Id].MailFolders["sentitems"].Messages.WithUrl(next).GetAsync(cancellationToken: ct) : null;
                }
            }

            return (messages, baselineFindings.Count, (double?)null);
        }, ct);
        var scale = mailboxes / (double)Math.Max(1, sample.Count);
        phases.Add(baseline);
        phases.Add(baseline with
        {
            Name = $"baseline: extrapolated to {mailboxes} mailboxes",
            Seconds = baseline.Seconds * scale,
            Messages = (long)(baseline.Messages * scale),
            HttpRequests = (long)(baseline.HttpRequests * scale),
            BytesReceived = (long)(baseline.BytesReceived * scale),
            Findings = -1,
            Note = "measured on the sample, scaled linearly (it is sequential)",
        });

        var sampleIds = sample.Select(m => m.Id).ToHashSet();
        var agentFindings = (await services.GetRequiredService<FindingQueries>().ListAsync(ct))
            .Where(f => sampleIds.Contains(f.MailboxId) && f.SentAt >= since && !f.GraphMessageId.StartsWith("AAMkADnew", StringComparison.Ordinal))
            .Select(f => (f.MailboxId, f.GraphMessageId)).ToHashSet();
        var added5 = baselineFindings.Where(f => f.Item2.StartsWith("AAMkADnew", StringComparison.Ordinal)).ToHashSet();
        var equal = agentFindings.SetEquals(baselineFindings.Except(added5));

        // The fewest requests the data allows (computed above): the directory, then one delta page per
        // mailbox when a page can hold all of its window (the simulator serves up to 1000 per page).
        return new BenchResult(settings, mailboxes, phases, bound, boundSeconds, fewest, equal, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}") { CountRows = countRows, CountRowBytes = countBytes, Replays = replays, WarmFirstScan = warm };

        static Core.Detection.Recipient? R(Microsoft.Graph.Models.Recipient? r) => r?.EmailAddress is null ? null : new(r.EmailAddress.Address, r.EmailAddress.Name);

        static List<Core.Detection.Recipient> Rs(List<Microsoft.Graph.Models.Recipient>? rs) => rs?.Select(r => new Core.Detection.Recipient(r.EmailAddress?.Address, r.EmailAddress?.Name)).ToList() ?? [];

        static double? Store(ScanSummary s) => (s.FinishedAt - s.StartedAt).TotalSeconds is var total and > 0 ? s.StoreTime.TotalSeconds / total : null;
    }

    /// <summary>
    /// Has the simulator serve itself the first page of 64 mailboxes, as the agent asks for them, and one <c>$batch</c>,
    /// so that the agent's first scan, like every phase after it, meets a simulator whose code is compiled. Without it
    /// the first scan paid for the simulator's JIT (5.4 s of simulator CPU against 3.7 s for the same requests
    /// replayed). The simulator sends these itself: a client here would compile the agent's HTTP stack too.
    /// </summary>
    private async Task WarmUpSimulatorAsync(HttpClient simulator, CancellationToken ct)
    {
        var path = SentItemsReader.FirstPageUrl("/v1.0", "{id}", DateTimeOffset.UtcNow.AddDays(-30)).Replace(Uri.EscapeDataString("{id}"), "{id}", StringComparison.Ordinal);
        var prefer = SentItemsReader.PreferPageSize(settings.PageSize);
        using var response = await simulator.PostAsJsonAsync(new Uri("/_simulator/warm-up?mailboxes=64", UriKind.Relative), new Simulator.WarmUpRequest(path, prefer), Json, ct);
        var served = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("requests").GetInt32();
        await log.WriteLineAsync($"simulator warmed up: {served} requests answered");
    }

    /// <summary>The first scan again, in this process (its code compiled), into a database of its own.</summary>
    private async Task<BenchPhase> WarmFirstScanAsync(Dictionary<string, string?> config, string folder, HttpClient simulator, CancellationToken ct)
    {
        await using var services = Services(new Dictionary<string, string?>(config) { ["Storage:SqlitePath"] = Path.Combine(folder, "warm.db") });
        await services.GetRequiredService<Hosting.DatabaseMigrator>().MigrateAsync(ct);
        var scan = services.GetRequiredService<ScanService>();
        return await MeasureAsync("agent: first scan again, warm process (new database)", simulator,
            async () => (await scan.RunAsync(null, ct)).Let(s => (s.Messages, s.NewFindings, (double?)null)), ct);
    }

    /// <summary>
    /// Sends again, with a bare HttpClient, the requests the simulator recorded in the phase before: first the
    /// directory's (domains and users, one after another), since no client can read a mailbox before it knows it is
    /// there, then each mailbox's pages one after another (a page's link comes from the one before), as many
    /// mailboxes or $batch requests at once as the agent (--parallel), each body read to the end and dropped. No
    /// SDK, no parsing, no database.
    /// </summary>
    private async Task<BenchPhase> ReplayAsync(string name, HttpClient simulator, string token, long messages, CancellationToken ct)
    {
        var requests = await simulator.GetFromJsonAsync<List<Simulator.RecordedRequest>>(new Uri("/_simulator/requests", UriKind.Relative), Json, ct) ?? [];
        var directory = requests.Where(r => r.Chain == Simulator.RecordedRequest.Directory).ToList();
        var chains = requests.Where(r => r.Chain != Simulator.RecordedRequest.Directory)
            .Select((r, i) => (Request: r, Key: r.Chain ?? "$batch" + i.ToString(CultureInfo.InvariantCulture)))
            .GroupBy(x => x.Key, StringComparer.Ordinal).Select(g => g.Select(x => x.Request).ToList()).ToList();
        using var handler = new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = simulator.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var phase = await MeasureAsync(name, simulator, async () =>
        {
            await SendAsync(directory, ct);
            await Parallel.ForEachAsync(chains, new ParallelOptions { MaxDegreeOfParallelism = settings.Parallel, CancellationToken = ct }, async (chain, token) => await SendAsync(chain, token));
            return (messages, 0, (double?)null);
        }, ct);
        return phase with { Note = $"{requests.Count} requests: {directory.Count} for the directory, then {chains.Count} chains" };

        async Task SendAsync(List<Simulator.RecordedRequest> chain, CancellationToken token)
        {
            foreach (var r in chain)
            {
                using var request = new HttpRequestMessage(new HttpMethod(r.Method), new Uri(r.Url, UriKind.Relative));
                if (r.Prefer is not null)
                {
                    request.Headers.TryAddWithoutValidation("Prefer", r.Prefer);
                }

                if (r.Body is not null)
                {
                    request.Content = new StringContent(r.Body, System.Text.Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                await using var body = await response.Content.ReadAsStreamAsync(token);
                await body.CopyToAsync(Stream.Null, token);
            }
        }
    }

    private async Task<BenchPhase> MeasureAsync(string name, HttpClient simulator, Func<Task<(long Messages, int Findings, double? StoreShare)>> phase, CancellationToken ct)
    {
        await log.WriteLineAsync($"{name}...");
        (await simulator.PostAsync(new Uri("/_simulator/reset", UriKind.Relative), null, ct)).EnsureSuccessStatusCode();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var sampling = new CancellationTokenSource();
        long peakSet = 0, peakHeap = 0;
        // Every 100 ms: the sampler runs in this process, and reading the working set every 20 ms took 2 to 3% of
        // the CPU a first scan was charged with (perf).
        var sampler = Task.Run(async () =>
        {
            using var process = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peakSet = Math.Max(peakSet, process.WorkingSet64);
                peakHeap = Math.Max(peakHeap, GC.GetGCMemoryInfo().HeapSizeBytes);
                try
                {
                    await Task.Delay(100, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }, ct);
        using var self = Process.GetCurrentProcess();
        var agentCpu = self.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var collections = GC.CollectionCount(0);
        var jitTime = System.Runtime.JitInfo.GetCompilationTime();
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
        _simulatorProcess?.Refresh();
        var simulatorCpu = _simulatorProcess?.TotalProcessorTime ?? TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var (messages, findings, storeShare) = await phase();
        clock.Stop();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        collections = GC.CollectionCount(0) - collections;
        jitTime = System.Runtime.JitInfo.GetCompilationTime() - jitTime;
        jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods;
        self.Refresh();
        _simulatorProcess?.Refresh();
        var agentCpuUsed = (self.TotalProcessorTime - agentCpu).TotalSeconds;
        var simulatorCpuUsed = ((_simulatorProcess?.TotalProcessorTime ?? TimeSpan.Zero) - simulatorCpu).TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        var stats = await simulator.GetFromJsonAsync<JsonElement>(new Uri("/_simulator/stats", UriKind.Relative), ct);
        var requests = stats.GetProperty("httpRequests").GetInt64();
        var mailboxes = Math.Max(1, stats.GetProperty("operationsByMailbox").EnumerateObject().Count());
        return new BenchPhase(name, clock.Elapsed.TotalSeconds, messages, requests, (double)requests / mailboxes, stats.GetProperty("bytesSent").GetInt64(),
            peakSet / (1024 * 1024), peakHeap / (1024 * 1024), findings, storeShare, agentCpuUsed, simulatorCpuUsed, "")
        {
            AllocatedBytes = allocated,
            Gen0Collections = collections,
            JitSeconds = jitTime.TotalSeconds,
            JitMethods = jitMethods,
        };
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static ServiceProvider Services(Dictionary<string, string?> config)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Error));
        services.AddAuditAgent(configuration);
        return services.BuildServiceProvider();
    }



}

/// <summary>A benchmark's scratch folder, removed with its SQLite files.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("auditagent-bench-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}

internal static class FunctionalExtensions
{
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> f) => f(value);
}
