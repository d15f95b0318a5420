using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AuditAgent.Core.Detection;
using AuditAgent.Core.Scans;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using AuditAgent.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;

namespace AuditAgent.Scanning;

public sealed record ScanProgress(int MailboxesDone, int MailboxesTotal, long Messages, int Findings);

public sealed record ScanSummary(
    long RunId,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    int Mailboxes,
    IReadOnlyList<MailboxFailure> Failures,
    long Messages,
    long MalformedMessages,
    long UnresolvableRecipients,
    int NewFindings,
    int Resyncs)
{
    /// <summary>Time the single writer spent committing pages: the store's share of the scan.</summary>
    public TimeSpan StoreTime { get; init; }

    /// <summary>Succeeded, partial (some mailboxes failed) or failed (all of them did).</summary>
    public ScanOutcome Outcome => ScanOutcomes.Of(Mailboxes, Failures.Count);

    /// <summary>The outcome's name, as scan_runs stores it.</summary>
    public string Status => Outcome.Name();
}

/// <summary>This machine's clock and Graph's disagree: a first sync would read the wrong window.</summary>
public sealed class ClockSkewException(string message) : ExplainedException(message);

/// <summary>
/// One scan cycle: verified domains and mailboxes from the directory open a cycle (or this agent joins
/// the one in progress); then mailboxes are leased 20 at a time (more while they are in sync) and each one's Sent Items delta is read,
/// a bounded number of mailboxes at a time. Pages flow through a bounded queue to a single writer that
/// commits findings and links together in batches, so memory stays flat and the database sees one
/// writer. Agents sharing a PostgreSQL database split the cycle through the leases.
/// </summary>
public sealed class ScanService(
    GraphServiceClient graph,
    GraphDirectory directory,
    ScanStore store,
    ClusterStore cluster,
    IOptions<GraphOptions> graphOptions,
    IOptions<ScanOptions> scanOptions,
    IOptions<DetectionOptions> detectionOptions,
    IOptions<ClusterOptions> clusterOptions,
    Protection.RecipientProtector protector,
    GraphClock graphClock,
    TimeProvider time,
    AgentMetrics metrics,
    ILogger<ScanService> logger) : IDisposable
{
    private const int QueueCapacity = 64;
    private const int MaxPagesPerTransaction = 64;

    // The writer lets pages gather before it commits: until PagesPerCommit are waiting or the readers are done, for
    // at most CommitWindow, looking every GatherStep (so that a fast rescan never waits on a full queue). A commit
    // writes every database page it touched whole, and the count rows of neighbouring mailboxes share pages: one
    // commit per few dozen mailboxes instead of one per mailbox cut SQLite's share of a 20,000-mailbox first scan's
    // CPU from 27% to 21% (perf). A page's findings are stored at most the window later.
    private const int PagesPerCommit = 32;
    private static readonly TimeSpan CommitWindow = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan GatherStep = TimeSpan.FromMilliseconds(2);
    private const int ClaimSize = 20;

    /// <summary>How often a $batch part throttled by Graph is sent again before its mailbox is read on its own.</summary>
    private const int BatchAttempts = 5;

    /// <summary>How often an agent whose share is done checks whether the others finished (one COUNT query).</summary>
    private static readonly TimeSpan WaitForOthers = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private int _warmedUp;

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>This agent is taking part in a cycle right now.</summary>
    public bool IsScanning => _oneAtATime.CurrentCount == 0;

    /// <summary>Reads the directory, opens a cycle (or joins the open one) and takes part until it is covered.</summary>
    public async Task<ScanSummary> RunAsync(IProgress<ScanProgress>? progress, CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            return await RecordAsync("scan cycle", async (stats, token) =>
            {
                var options = scanOptions.Value;
                var warmUp = Interlocked.Exchange(ref _warmedUp, 1) == 0 ? WarmUpAsync() : Task.CompletedTask;
                var internalDomains = new InternalDomains((await directory.GetVerifiedDomainsAsync(token)).Concat(options.InternalDomains));
                var mailboxes = Select(await directory.GetMailboxesAsync(token), options);
                var now = time.GetUtcNow();
                var purposes = await ReadPurposesAsync(mailboxes, now, token);
                var (cycle, opened) = await cluster.OpenOrJoinAsync(mailboxes, internalDomains.All, now.AddDays(-options.LookbackDays), now, purposes, token);
                if (logger.IsEnabled(LogLevel.Information))
                {
                    logger.ScanCycle(opened ? "Opened" : "Joined", cycle.Id, cycle.Mailboxes, string.Join(", ", internalDomains.All));
                }

                await TakePartAsync(cycle, progress, stats, token);
                await warmUp;
            }, ct);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The page path compiled on a thread of its own while the directory is read (<see cref="PageWork.WarmUp"/>); never fails the scan.</summary>
    private async Task WarmUpAsync()
    {
        try
        {
            var detection = detectionOptions.Value;
            await Task.Run(() => PageWork.WarmUp(new DetectionRules(detection.VisibleExternalThreshold), detection.LoadSensitivity()));
        }
        catch (Exception ex)
        {
            logger.PageWarmUpFailed(ex.Message);
        }
    }

    /// <summary>
    /// mailboxSettings.userPurpose of the mailboxes not read in the last day (all of them the first time), 20 to a
    /// $batch; null when MailboxSettings.Read is not granted. Rooms and equipment are then not scanned.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>?> ReadPurposesAsync(IReadOnlyList<Mailbox> mailboxes, DateTimeOffset now, CancellationToken ct)
    {
        if (directory.MailboxSettingsDenied)
        {
            return null;
        }

        var known = await cluster.PurposeKnownSinceAsync(now - ClusterStore.PurposeRefresh, ct);
        var stale = mailboxes.Where(m => !known.Contains(m.Id)).Select(m => m.Id).ToList();
        return stale.Count == 0 ? null : await directory.PurposesAsync(stale, ct);
    }

    /// <summary>
    /// Helps with the open cycle when it has mailboxes nobody holds (an idle agent in a cluster, or
    /// leases of a dead agent that expired). Returns null, recording nothing, when there is nothing to do.
    /// </summary>
    public async Task<ScanSummary?> JoinAsync(CancellationToken ct)
    {
        if (!await _oneAtATime.WaitAsync(0, ct))
        {
            return null;
        }

        try
        {
            var cycle = await cluster.FindClaimableAsync(time.GetUtcNow(), ct);
            if (cycle is null)
            {
                return null;
            }

            logger.LogInformation("Joining scan cycle {Cycle} started by {Agent}", cycle.Id, cycle.StartedBy);
            return await RecordAsync("scan join", (stats, token) => TakePartAsync(cycle, null, stats, token), ct);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// Records this agent's part of a cycle in scan_runs, whether it succeeds, fails or is stopped, and in the
    /// metrics and a trace span (<paramref name="name"/>) with its counts.
    /// </summary>
    private async Task<ScanSummary> RecordAsync(string name, Func<Stats, CancellationToken, Task> work, CancellationToken ct)
    {
        using var activity = AgentTracing.Source.StartActivity(name);
        var started = time.GetUtcNow();
        var runId = await store.StartRunAsync(started, ct);
        var stats = new Stats();
        var clock = Stopwatch.StartNew();
        try
        {
            await work(stats, ct);
            var summary = stats.Summary(runId, started, time.GetUtcNow());
            await FinishRunAsync(runId, summary, summary.Status, null);
            Finished(activity, summary, summary.Status, clock.Elapsed);
            return summary;
        }
        catch (Exception ex)
        {
            var outcome = (ex is OperationCanceledException ? ScanOutcome.Cancelled : ScanOutcome.Failed).Name();
            var error = ex is OperationCanceledException && ct.IsCancellationRequested ? "stopped before the end; the next scan resumes" : GraphErrors.Describe(ex);
            var summary = stats.Summary(runId, started, time.GetUtcNow());
            await FinishRunAsync(runId, summary, outcome, error);
            AgentTracing.Fail(activity, ex);
            Finished(activity, summary, outcome, clock.Elapsed);
            throw;
        }
    }

    private void Finished(Activity? activity, ScanSummary summary, string outcome, TimeSpan duration)
    {
        metrics.CycleFinished(outcome, duration);
        activity?.SetTag("auditagent.outcome", outcome);
        activity?.SetTag("auditagent.mailboxes", summary.Mailboxes);
        activity?.SetTag("auditagent.mailboxes.failed", summary.Failures.Count);
        activity?.SetTag("auditagent.messages", summary.Messages);
        activity?.SetTag("auditagent.findings", summary.NewFindings);
    }

    private Task FinishRunAsync(long runId, ScanSummary s, string status, string? error) =>
        store.FinishRunAsync(runId, new ScanRunResult(s.FinishedAt, status, s.Mailboxes, s.Failures.Count, s.Messages,
            s.MalformedMessages, s.UnresolvableRecipients, s.NewFindings, s.Resyncs, error), CancellationToken.None);

    /// <summary>
    /// Leases and scans mailboxes of the cycle until none is left to lease, then waits while other agents
    /// finish theirs, taking over any whose lease expires, until the whole cycle is covered.
    /// </summary>
    private async Task TakePartAsync(ScanCycle cycle, IProgress<ScanProgress>? progress, Stats stats, CancellationToken ct)
    {
        var leaseTime = TimeSpan.FromSeconds(clusterOptions.Value.LeaseSeconds);
        var g = graphOptions.Value;
        var internalDomains = new InternalDomains(cycle.InternalDomains.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var rules = new DetectionRules(detectionOptions.Value.VisibleExternalThreshold);
        var reader = new SentItemsReader(graph, graphClock, TransientRetry.From(g, time, metrics), g.PageSize, g.MaxRetryAfterSeconds, new MessageScreen(internalDomains, rules));
        var sensitivity = detectionOptions.Value.LoadSensitivity();
        var lease = new MailboxLease(cycle.Id, cluster.Owner);
        var cipher = await protector.GetAsync(ct);
        await cluster.CheckInAsync(time.GetUtcNow(), ct);
        // One part at a time per agent: leases this agent still holds are left from a part that failed
        // (e.g. the database went away mid-scan) and would otherwise wait for their expiry.
        await cluster.ReleaseAsync(ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var queue = Channel.CreateBounded<QueueItem>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true });
        var context = new CycleContext(cycle.Since, reader, internalDomains, rules, sensitivity, cipher, queue.Writer, stats);
        var readersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = WriteAsync(queue.Reader, readersDone.Task, lease, stats, stop);
        var renewing = RenewAsync(cycle.Id, leaseTime, stop.Token);
        try
        {
            while (true)
            {
                await Parallel.ForEachAsync(
                    ClaimAsync(cycle.Id, leaseTime, stop.Token),
                    new ParallelOptions { MaxDegreeOfParallelism = scanOptions.Value.MaxParallelMailboxes, CancellationToken = stop.Token },
                    async (unit, token) =>
                    {
                        var firstReads = unit.Batched
                            ? await reader.ReadManyAsync(unit.Items.Select(u => (u.Mailbox, u.Link!)).ToList(), 1, BatchAttempts, token)
                            : null;
                        foreach (var (link, mailbox) in unit.Items)
                        {
                            await ScanMailboxAsync(mailbox, link, firstReads?.GetValueOrDefault(mailbox.Id), context, token);
                            var done = Interlocked.Increment(ref stats.MailboxCount);
                            progress?.Report(new ScanProgress(done, cycle.Mailboxes, stats.Messages, stats.Findings));
                        }
                    });

                // Nothing left to lease: the rest is held by other agents. Wait for them; a dead agent's
                // mailboxes come back when its process is found gone or its leases expire.
                if (await cluster.ReturnLeasesOfDeadAgentsAsync(cycle.Id, stop.Token) > 0)
                {
                    continue;
                }

                if (await cluster.UncoveredByOthersAsync(cycle.Id, stop.Token) == 0)
                {
                    break;
                }

                await Task.Delay(WaitForOthers, time, stop.Token);
            }
        }
        finally
        {
            // Pages already read are complete and consistent: commit them even when stopping.
            readersDone.TrySetResult();
            queue.Writer.TryComplete();
            try
            {
                await writer;
            }
            finally
            {
                await stop.CancelAsync();
                await renewing;
                await ReleaseQuietlyAsync();
            }
        }

        await cluster.FinishIfCoveredAsync(cycle.Id, time.GetUtcNow(), ct);
    }

    /// <summary>Gives back what this agent did not finish, so others take it at once; best effort (the database may be what failed).</summary>
    private async Task ReleaseQuietlyAsync()
    {
        try
        {
            await cluster.ReleaseAsync(CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex)
        {
            logger.LeaseReleaseFailed(ex.Message);
        }
    }

    /// <summary>
    /// Leases mailboxes as workers become free and turns them into units of work: mailboxes already in
    /// sync usually have nothing new, so their delta links go 20 to a $batch; the rest are read alone.
    /// </summary>
    private async IAsyncEnumerable<(bool Batched, (string? Link, Mailbox Mailbox)[] Items)> ClaimAsync(
        long cycle, TimeSpan leaseTime, [EnumeratorCancellation] CancellationToken ct)
    {
        var batch = scanOptions.Value.BatchRescans;
        var size = ClaimSize;
        // The next claim is made while the workers scan this one's mailboxes, so no worker waits for the
        // database to hand it a mailbox (on SQLite a claim also waits for the writer's transaction).
        var next = cluster.ClaimAsync(cycle, size, time.GetUtcNow(), leaseTime, ct);
        try
        {
            while (true)
            {
                var claimed = await next;
                if (claimed.Count == 0)
                {
                    yield break;
                }

                // Mailboxes in sync cost a twentieth of a request each: while whole claims are in sync, lease
                // more at a time (up to one $batch per parallel worker); a mailbox to read on its own resets it.
                var allInSync = batch && claimed.All(m => m is { RoundComplete: true, DeltaLink: not null });
                size = allInSync ? Math.Min(size * 2, ClaimSize * scanOptions.Value.MaxParallelMailboxes) : ClaimSize;
                next = cluster.ClaimAsync(cycle, size, time.GetUtcNow(), leaseTime, ct);

                var inSync = new List<(string? Link, Mailbox Mailbox)>();
                foreach (var m in claimed)
                {
                    if (batch && m is { RoundComplete: true, DeltaLink: { } link })
                    {
                        inSync.Add((link, m.ToMailbox()));
                    }
                    else
                    {
                        yield return (false, [(m.DeltaLink, m.ToMailbox())]);
                    }
                }

                foreach (var chunk in inSync.Chunk(SentItemsReader.BatchLimit))
                {
                    yield return (true, chunk);
                }
            }
        }
        finally
        {
            // A claim still running when the scan stops must end before the agent gives its leases back,
            // or the mailboxes it leased would stay held until their lease expires. Its error, if any,
            // is the scan's to report, and the scan has already stopped.
            await next.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Renews this agent's leases every third of their duration until the scan ends.</summary>
    private async Task RenewAsync(long cycle, TimeSpan leaseTime, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(leaseTime / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await cluster.RenewAsync(cycle, time.GetUtcNow(), leaseTime, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A lease that lapses is taken over by another agent; this agent's late pages are then dropped.
                    logger.LeaseRenewalFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The mailboxes a scan reads: Scan:IncludeMailboxes (when set) minus Scan:ExcludeMailboxes.</summary>
    internal static List<Mailbox> Select(IReadOnlyList<Mailbox> all, ScanOptions options)
    {
        static bool Matches(Mailbox m, List<string> list) =>
            list.Any(x => x.Equals(m.Address, StringComparison.OrdinalIgnoreCase) || x.Equals(m.Id, StringComparison.OrdinalIgnoreCase));
        return all
            .Where(m => options.IncludeMailboxes.Count == 0 || Matches(m, options.IncludeMailboxes))
            .Where(m => !Matches(m, options.ExcludeMailboxes))
            .ToList();
    }

    /// <param name="firstRead">The first page, already read in a $batch, or null to read it here.</param>
    private async Task ScanMailboxAsync(Mailbox mailbox, string? link, BatchedRead? firstRead, CycleContext context, CancellationToken ct)
    {
        var (since, reader, internalDomains, rules, sensitivity, cipher, queue, stats) = context;
        // A span per mailbox, its Graph calls beneath it; counts only (the address stays out of traces).
        using var activity = AgentTracing.Source.StartActivity("scan mailbox");
        var pages = 0;
        var clock = Stopwatch.StartNew();
        var startedOver = false;
        var messages = 0;
        // Every link this mailbox's round has been sent on: a link that comes back would be followed forever.
        var links = new HashSet<string>(StringComparer.Ordinal);
        // Each message id of the round with its recipients: the same id again with other recipients is skipped and counted.
        var seen = new Dictionary<long, int>();
        try
        {
            while (true)
            {
                if (link is null && graphClock.FirstSyncRefusal() is { } refusal)
                {
                    throw new ClockSkewException(refusal);
                }

                DeltaPage page;
                try
                {
                    if (firstRead is { } read)
                    {
                        firstRead = null;
                        page = read.Page ?? throw read.Error!;
                    }
                    else
                    {
                        page = await reader.ReadAsync(mailbox, link, since, ct);
                    }
                }
                catch (Exception ex) when (link is not null && GraphErrors.IsResyncRequired(ex))
                {
                    logger.SyncStateLost(mailbox.Address);
                    link = null;
                    links.Clear();
                    seen.Clear();
                    startedOver = true;
                    Interlocked.Increment(ref stats.ResyncCount);
                    continue;
                }

                if (!page.RoundComplete && !links.Add(page.NextLink))
                {
                    throw new EndlessPagingException($"Graph sent the same @odata.nextLink twice for this mailbox's Sent Items (after {messages} messages); this page is not stored and the next scan resumes before it");
                }

                var (findings, bccMessages, counts, conflicting, unresolvable) = PageWork.Of(page, mailbox, seen, internalDomains, rules, sensitivity, cipher, time);
                Interlocked.Add(ref stats.UnresolvableCount, unresolvable);
                messages += page.Messages.Count;
                pages++;
                metrics.PageRead(page.Messages.Count, page.Malformed + conflicting);
                Interlocked.Add(ref stats.MessageCount, page.Messages.Count);
                Interlocked.Add(ref stats.MalformedCount, page.Malformed + conflicting);
                if (page.Malformed > 0)
                {
                    logger.MalformedSkipped(page.Malformed, mailbox.Address);
                }

                if (conflicting > 0)
                {
                    logger.ConflictingSkipped(conflicting, mailbox.Address);
                }

                await queue.WriteAsync(new PageItem(new PageWrite(mailbox.Id, findings, bccMessages, page.NextLink, page.RoundComplete, startedOver, page.Malformed + conflicting) { Stats = counts }), ct);
                startedOver = false;
                link = page.NextLink;
                if (page.RoundComplete)
                {
                    break;
                }
            }

            logger.MailboxScanned(mailbox.Address, messages, clock.ElapsedMilliseconds);
            Read(activity, "scanned", pages, messages);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && GraphErrors.IsNoMailbox(ex))
        {
            // A user without an Exchange Online mailbox (unlicensed, on-premises): recorded, tried again in a day.
            logger.NoMailbox(mailbox.Address);
            Read(activity, "no_mailbox", pages, messages);
            await queue.WriteAsync(new FailureItem(new MailboxFailure(mailbox.Id, GraphErrors.Describe(ex), NoMailbox: true)), ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // One mailbox failing (403 outside the app's scope, a deleted user, retries exhausted)
            // must not stop the others; the failure is recorded on the mailbox and in the run.
            var reason = GraphErrors.Describe(ex);
            logger.MailboxFailed(mailbox.Address, reason);
            AgentTracing.Fail(activity, ex);
            Read(activity, "failed", pages, messages);
            var failure = new MailboxFailure(mailbox.Id, reason);
            lock (stats.Failures)
            {
                stats.Failures.Add(failure);
            }

            await queue.WriteAsync(new FailureItem(failure), ct);
        }
    }

    private void Read(Activity? activity, string result, int pages, int messages)
    {
        metrics.MailboxRead(result);
        activity?.SetTag("auditagent.result", result);
        activity?.SetTag("auditagent.pages", pages);
        activity?.SetTag("auditagent.messages", messages);
    }

    /// <param name="readersDone">Complete once no reader will add a page: what is waiting is committed at once.</param>
    private async Task WriteAsync(ChannelReader<QueueItem> queue, Task readersDone, MailboxLease lease, Stats stats, CancellationTokenSource stop)
    {
        try
        {
            var pages = new List<PageWrite>();
            var failures = new List<MailboxFailure>();
            while (await queue.WaitToReadAsync())
            {
                var gathering = Stopwatch.GetTimestamp();
                while (queue.Count < PagesPerCommit && !readersDone.IsCompleted && Stopwatch.GetElapsedTime(gathering) < CommitWindow)
                {
                    await Task.Delay(GatherStep);
                }

                pages.Clear();
                failures.Clear();
                while (pages.Count + failures.Count < MaxPagesPerTransaction && queue.TryRead(out var item))
                {
                    switch (item)
                    {
                        case PageItem p:
                            pages.Add(p.Page);
                            break;
                        case FailureItem f:
                            failures.Add(f.Failure);
                            break;
                    }
                }

                var started = Stopwatch.GetTimestamp();
                var (inserted, dropped) = await store.SavePagesAsync(pages, failures, lease, time.GetUtcNow(), CancellationToken.None);
                Interlocked.Add(ref stats.StoreTicks, Stopwatch.GetElapsedTime(started).Ticks);
                Interlocked.Add(ref stats.FindingCount, inserted);
                metrics.FindingsStored(inserted);
                if (dropped > 0)
                {
                    logger.PagesDropped(dropped);
                }
            }
        }
        catch
        {
            // Without a working store nothing read can be kept: stop the readers, surface the error.
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>What the readers hand the single writer: a page to store, or a mailbox that failed.</summary>
    private abstract record QueueItem;

    private sealed record PageItem(PageWrite Page) : QueueItem;

    private sealed record FailureItem(MailboxFailure Failure) : QueueItem;

    /// <summary>What every mailbox of one cycle is read with.</summary>
    private sealed record CycleContext(
        DateTimeOffset Since,
        SentItemsReader Reader,
        InternalDomains InternalDomains,
        DetectionRules Rules,
        SensitivityRules Sensitivity,
        Protection.RecipientCipher Cipher,
        ChannelWriter<QueueItem> Queue,
        Stats Stats);

    private sealed class Stats
    {
        public long MessageCount;
        public long MalformedCount;
        public long UnresolvableCount;
        public int FindingCount;
        public int ResyncCount;
        public long StoreTicks;
        public int MailboxCount;

        public List<MailboxFailure> Failures { get; } = [];

        public long Messages => Interlocked.Read(ref MessageCount);

        public int Findings => Volatile.Read(ref FindingCount);

        public ScanSummary Summary(long runId, DateTimeOffset started, DateTimeOffset finished)
        {
            lock (Failures)
            {
                return new ScanSummary(runId, started, finished, Volatile.Read(ref MailboxCount), Failures.ToList(), Messages, Interlocked.Read(ref MalformedCount),
                    Interlocked.Read(ref UnresolvableCount), Findings, Volatile.Read(ref ResyncCount))
                {
                    StoreTime = TimeSpan.FromTicks(Interlocked.Read(ref StoreTicks)),
                };
            }
        }
    }
}
