using System.Diagnostics.CodeAnalysis;
using AuditAgent.Events.Sinks;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace AuditAgent.Events;

/// <summary>
/// Pushes the event stream to every configured sink, each on its own (a slow or failing one holds up
/// nothing else), in id order: a sink's checkpoint moves only after the receiver took the events. Each
/// attempt retries quickly itself (Polly: exponential with jitter, honouring Retry-After, after a network
/// failure, 408, 429 or 5xx); a failed attempt waits 1 s, 2 s, 4 s ... (at most an hour, longer when the
/// receiver's Retry-After says so) and the same events are tried again; after Events:MaxAttempts they
/// become dead letters and the next ones go. Dead letters asked for again (`events redeliver`) go first.
/// </summary>
public sealed class EventPusher(EventFeed feed, SinkStore store, SinkCatalog catalog, IOptions<EventsOptions> options, TimeProvider time, ILogger<EventPusher> logger)
{
    private const int Page = 100;
    private static readonly TimeSpan QuickRetryMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>One pass over every sink; returns how many events went out.</summary>
    public async Task<int> PushOnceAsync(CancellationToken ct)
    {
        var sinks = catalog.Sinks;
        if (sinks.Count == 0)
        {
            return 0;
        }

        await using var lead = await store.TryLeadAsync(ct);
        if (lead is null)
        {
            return 0; // another agent is pushing
        }

        var sent = await Task.WhenAll(sinks.Select(sink => PushAsync(sink, ct)));
        return sent.Sum();
    }

    private async Task<int> PushAsync(IEventSink sink, CancellationToken ct)
    {
        var name = sink.Options.Name;
        var pipeline = Pipeline();
        var sent = await RedeliverAsync(sink, pipeline, ct);
        var state = await store.GetOrStartAsync(name, ct);
        if (state.NextAttemptAt is { } wait && wait > time.GetUtcNow())
        {
            return sent;
        }

        var attempts = state.Attempts;
        var after = state.LastEventId;
        while (true)
        {
            // Page after page until the sink has caught up, or an attempt failed and it waits.
            var page = await feed.AfterAsync(after, Page, ct);
            if (page.Count == 0)
            {
                return sent;
            }

            after = page[^1].Id;
            var wanted = page.Where(e => sink.Options.Wants(e.Type, e.Severity())).ToList();

            // The checkpoint is written once per page, and before any failure is: a crash sends at most the
            // page's delivered events again (at least once; receivers drop repeats by event id), and the
            // pusher does not contend with the scan for the database on every event.
            var taken = 0;
            foreach (var batch in wanted.Chunk(sink.BatchSize))
            {
                var delivery = await pipeline.ExecuteAsync(async token => await sink.SendAsync(batch, token), ct);
                if (delivery.Ok)
                {
                    attempts = 0;
                    taken += batch.Length;
                    continue;
                }

                await store.AdvanceAsync(name, batch[0].Id - 1, taken, ct); // everything earlier went, or was not for this sink

                sent += taken;
                taken = 0;
                attempts++;
                if (attempts >= options.Value.MaxAttempts)
                {
                    logger.SinkDeadLettered(name, batch[0].Id, batch[^1].Id, attempts, delivery.Error);
                    await store.DeadLetterAsync(name, batch.Select(e => e.Id).ToList(), batch[^1].Id, delivery.Error!, time.GetUtcNow(), ct);
                    attempts = 0;
                    continue;
                }

                var delay = TimeSpan.FromSeconds(Math.Min(3600, Math.Pow(2, attempts - 1)));
                if (delivery.RetryAfter is { } asked && asked > delay)
                {
                    delay = asked;
                }

                logger.SinkAttemptFailed(name, batch[0].Id, delivery.Error, attempts, options.Value.MaxAttempts, delay);
                await store.FailAsync(name, delivery.Error!, time.GetUtcNow() + delay, ct);
                return sent;
            }

            await store.AdvanceAsync(name, after, taken, ct);
            sent += taken;
        }
    }

    /// <summary>Dead letters `events redeliver` asked for, oldest first; each one taken leaves the dead letters, a failure stays asked for.</summary>
    private async Task<int> RedeliverAsync(IEventSink sink, ResiliencePipeline<Delivery> pipeline, CancellationToken ct)
    {
        var ids = await store.RedeliveriesAsync(sink.Options.Name, ct);
        var sent = 0;
        foreach (var e in await feed.ByIdAsync(ids, ct))
        {
            var delivery = await pipeline.ExecuteAsync(async token => await sink.SendAsync([e], token), ct);
            if (!delivery.Ok)
            {
                logger.SinkRedeliveryFailed(sink.Options.Name, e.Id, delivery.Error);
                break;
            }

            await store.RedeliveredAsync(sink.Options.Name, e.Id, ct);
            sent++;
        }

        return sent;
    }

    /// <summary>Quick retries within one attempt, on the agent's clock: never a hand-written loop.</summary>
    private ResiliencePipeline<Delivery> Pipeline()
    {
        var builder = new ResiliencePipelineBuilder<Delivery> { TimeProvider = time };
        if (options.Value.QuickRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<Delivery>
            {
                MaxRetryAttempts = options.Value.QuickRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = QuickRetryMaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Result is { Ok: false, Transient: true } d && (d.RetryAfter is null || d.RetryAfter <= QuickRetryMaxDelay)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked : (TimeSpan?)null),
            });
        }

        return builder.Build();
    }
}

/// <summary>`run`'s loop: every Events:PushEverySeconds, announce what time and health brought (clocks, overdue steps, failing mailboxes, lost agents), then push.</summary>
internal sealed class EventPushService(EventPusher pusher, EventStore events, IOptions<EventsOptions> options, IOptions<Scanning.ClusterOptions> cluster, TimeProvider time, ILogger<EventPushService> logger) : BackgroundService
{
    [SuppressMessage("Design", "CA1031", Justification = "A failed pass (the database unreachable) is logged and the next one tries again.")]
    /// <summary>Health (a mailbox failing for a day, an agent silent for a lease) changes slowly: it is read once a minute, not every pass over every mailbox.</summary>
    private static readonly TimeSpan HealthEvery = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextHealth = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                await events.AnnounceDeadlinesAsync(now, stoppingToken);
                if (now >= nextHealth)
                {
                    await events.AnnounceHealthAsync(now, TimeSpan.FromSeconds(cluster.Value.LeaseSeconds), stoppingToken);
                    nextHealth = now + HealthEvery;
                }

                await pusher.PushOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.PushFailed(ex.Message);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Value.PushEverySeconds), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
