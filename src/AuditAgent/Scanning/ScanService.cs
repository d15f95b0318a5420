using System.Diagnostics;
using System.Threading.Channels;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
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

    /// <summary>succeeded, partial (some mailboxes failed) or failed (all of them did).</summary>
    public string Status => Failures.Count == 0 ? "succeeded" : Failures.Count >= Mailboxes ? "failed" : "partial";
}

/// <summary>
/// One scan of the tenant: verified domains and mailboxes from the directory, then every mailbox's
/// Sent Items delta, a bounded number of mailboxes at a time. Pages flow through a bounded queue to a
/// single writer that commits findings and links together in batches, so memory stays flat and the
/// database sees one writer.
/// </summary>
public sealed class ScanService(
    GraphServiceClient graph,
    ScanStore store,
    IOptions<GraphOptions> graphOptions,
    IOptions<ScanOptions> scanOptions,
    IOptions<DetectionOptions> detectionOptions,
    TimeProvider time,
    ILogger<ScanService> logger)
{
    private const int QueueCapacity = 64;
    private const int MaxPagesPerTransaction = 64;

    public async Task<ScanSummary> RunAsync(IProgress<ScanProgress>? progress, CancellationToken ct)
    {
        var options = scanOptions.Value;
        var rules = new DetectionRules(detectionOptions.Value.VisibleExternalThreshold);
        var g = graphOptions.Value;
        var retryDelay = TimeSpan.FromSeconds(g.RetryDelaySeconds);
        var reader = new SentItemsReader(graph, g.PageSize, g.MaxRetries, retryDelay);
        var started = time.GetUtcNow();
        var runId = await store.StartRunAsync(started, ct);
        var stats = new Stats();
        var mailboxCount = 0;
        try
        {
            var directory = new GraphDirectory(graph, g.MaxRetries, retryDelay);
            var internalDomains = new InternalDomains((await directory.GetVerifiedDomainsAsync(ct)).Concat(options.InternalDomains));
            var mailboxes = Select(await directory.GetMailboxesAsync(ct), options);
            mailboxCount = mailboxes.Count;
            await store.UpsertMailboxesAsync(mailboxes, started, ct);
            var cursors = await store.GetCursorsAsync(ct);
            var since = started.AddDays(-options.LookbackDays);
            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("Scanning {Mailboxes} mailboxes; internal domains: {Domains}", mailboxes.Count, string.Join(", ", internalDomains.All));
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var queue = Channel.CreateBounded<object>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true });
            var writer = WriteAsync(queue.Reader, stats, stop);
            var done = 0;
            try
            {
                // Mailboxes already in sync usually have nothing new: their delta links go 20 to a $batch.
                // Each batch is one unit of work, so only a batch's answers are held at any time.
                var work = new List<(bool Batched, (string? Link, Mailbox Mailbox)[] Items)>();
                var inSync = new List<(string? Link, Mailbox Mailbox)>();
                foreach (var mailbox in mailboxes)
                {
                    var cursor = cursors.GetValueOrDefault(mailbox.Id);
                    if (options.BatchRescans && cursor is { RoundComplete: true, DeltaLink: { } link })
                    {
                        inSync.Add((link, mailbox));
                    }
                    else
                    {
                        work.Add((false, [(cursor?.DeltaLink, mailbox)]));
                    }
                }

                work.AddRange(inSync.Chunk(20).Select(chunk => (true, chunk)));
                await Parallel.ForEachAsync(
                    work,
                    new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelMailboxes, CancellationToken = stop.Token },
                    async (unit, token) =>
                    {
                        var firstReads = unit.Batched
                            ? await reader.ReadManyAsync(unit.Items.Select(u => (u.Mailbox, u.Link!)).ToList(), 1, maxAttempts: 5, token)
                            : null;
                        foreach (var (link, mailbox) in unit.Items)
                        {
                            await ScanMailboxAsync(mailbox, link, firstReads?.GetValueOrDefault(mailbox.Id), since, reader, internalDomains, rules, queue.Writer, stats, token);
                            progress?.Report(new ScanProgress(Interlocked.Increment(ref done), mailboxes.Count, stats.Messages, stats.Findings));
                        }
                    });
            }
            finally
            {
                // Pages already read are complete and consistent: commit them even when stopping.
                queue.Writer.TryComplete();
                await writer;
            }

            var summary = stats.Summary(runId, started, time.GetUtcNow(), mailboxes.Count);
            await store.FinishRunAsync(runId, new ScanRunResult(summary.FinishedAt, summary.Status, summary.Mailboxes, summary.Failures.Count,
                summary.Messages, summary.MalformedMessages, summary.UnresolvableRecipients, summary.NewFindings, summary.Resyncs, null), CancellationToken.None);
            return summary;
        }
        catch (Exception ex)
        {
            var status = ex is OperationCanceledException ? "cancelled" : "failed";
            var s = stats.Summary(runId, started, time.GetUtcNow(), mailboxCount);
            var error = ex is OperationCanceledException && ct.IsCancellationRequested ? "stopped before the end; the next scan resumes" : GraphErrors.Describe(ex);
            await store.FinishRunAsync(runId, new ScanRunResult(s.FinishedAt, status, s.Mailboxes, s.Failures.Count, s.Messages,
                s.MalformedMessages, s.UnresolvableRecipients, s.NewFindings, s.Resyncs, error), CancellationToken.None);
            throw;
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
    private async Task ScanMailboxAsync(
        Mailbox mailbox,
        string? link,
        BatchedRead? firstRead,
        DateTimeOffset since,
        SentItemsReader reader,
        InternalDomains internalDomains,
        DetectionRules rules,
        ChannelWriter<object> queue,
        Stats stats,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var startedOver = false;
        var messages = 0;
        try
        {
            while (true)
            {
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
                    logger.LogWarning("Graph lost the sync state of {Mailbox}; starting a new sync of the look-back window", mailbox.Address);
                    link = null;
                    startedOver = true;
                    Interlocked.Increment(ref stats.ResyncCount);
                    continue;
                }

                var findings = new List<Finding>();
                var bccMessages = new List<BccMessage>();
                foreach (var message in page.Messages)
                {
                    var result = ExposureDetector.Detect(message, internalDomains, rules);
                    Interlocked.Add(ref stats.UnresolvableCount, result.UnresolvableRecipients);
                    if (result.Finding is not null)
                    {
                        findings.Add(result.Finding);
                    }
                    else if (result.BccMessage is not null)
                    {
                        bccMessages.Add(result.BccMessage);
                    }
                }

                messages += page.Messages.Count;
                Interlocked.Add(ref stats.MessageCount, page.Messages.Count);
                Interlocked.Add(ref stats.MalformedCount, page.Malformed);
                if (page.Malformed > 0)
                {
                    logger.LogWarning("Skipped {Malformed} malformed messages in {Mailbox}", page.Malformed, mailbox.Address);
                }

                await queue.WriteAsync(new PageWrite(mailbox.Id, findings, bccMessages, page.NextLink, page.RoundComplete, startedOver), ct);
                startedOver = false;
                link = page.NextLink;
                if (page.RoundComplete)
                {
                    break;
                }
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("Scanned {Mailbox}: {Messages} new messages in {ElapsedMs} ms", mailbox.Address, messages, clock.ElapsedMilliseconds);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // One mailbox failing (403 outside the app's scope, a deleted user, retries exhausted)
            // must not stop the others; the failure is recorded on the mailbox and in the run.
            var reason = GraphErrors.Describe(ex);
            logger.LogWarning("Mailbox {Mailbox} failed: {Reason}", mailbox.Address, reason);
            var failure = new MailboxFailure(mailbox.Id, reason);
            lock (stats.Failures)
            {
                stats.Failures.Add(failure);
            }

            await queue.WriteAsync(failure, ct);
        }
    }

    private async Task WriteAsync(ChannelReader<object> queue, Stats stats, CancellationTokenSource stop)
    {
        try
        {
            var pages = new List<PageWrite>();
            var failures = new List<MailboxFailure>();
            while (await queue.WaitToReadAsync())
            {
                pages.Clear();
                failures.Clear();
                while (pages.Count + failures.Count < MaxPagesPerTransaction && queue.TryRead(out var item))
                {
                    if (item is PageWrite page)
                    {
                        pages.Add(page);
                    }
                    else
                    {
                        failures.Add((MailboxFailure)item);
                    }
                }

                var started = Stopwatch.GetTimestamp();
                var inserted = await store.SavePagesAsync(pages, failures, time.GetUtcNow(), CancellationToken.None);
                Interlocked.Add(ref stats.StoreTicks, Stopwatch.GetElapsedTime(started).Ticks);
                Interlocked.Add(ref stats.FindingCount, inserted);
            }
        }
        catch
        {
            // Without a working store nothing read can be kept: stop the readers, surface the error.
            await stop.CancelAsync();
            throw;
        }
    }

    private sealed class Stats
    {
        public long MessageCount;
        public long MalformedCount;
        public long UnresolvableCount;
        public int FindingCount;
        public int ResyncCount;
        public long StoreTicks;

        public List<MailboxFailure> Failures { get; } = [];

        public long Messages => Interlocked.Read(ref MessageCount);

        public int Findings => Volatile.Read(ref FindingCount);

        public ScanSummary Summary(long runId, DateTimeOffset started, DateTimeOffset finished, int mailboxes)
        {
            lock (Failures)
            {
                return new ScanSummary(runId, started, finished, mailboxes, Failures.ToList(), Messages, Interlocked.Read(ref MalformedCount),
                    Interlocked.Read(ref UnresolvableCount), Findings, Volatile.Read(ref ResyncCount))
                {
                    StoreTime = TimeSpan.FromTicks(Interlocked.Read(ref StoreTicks)),
                };
            }
        }
    }
}
