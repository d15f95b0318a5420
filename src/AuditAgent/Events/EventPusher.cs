using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditAgent.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Events;

/// <summary>
/// Pushes the event stream to every configured webhook, in order, each event once: the sink's checkpoint
/// moves only after the receiver answered 2xx. A failure waits (1 s, 2 s, 4 s ... at most an hour) and
/// the same event is tried again; after Events:MaxAttempts it becomes a dead letter and the next one goes.
/// </summary>
public sealed class EventPusher(EventFeed feed, SinkStore sinks, IOptions<EventsOptions> options, IHttpClientFactory http, TimeProvider time, ILogger<EventPusher> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>One pass over every sink; returns how many events went out.</summary>
    public async Task<int> PushOnceAsync(CancellationToken ct)
    {
        await using var lead = await sinks.TryLeadAsync(ct);
        if (lead is null)
        {
            return 0; // another agent is pushing
        }

        var sent = 0;
        foreach (var sink in options.Value.Webhooks)
        {
            sent += await PushAsync(sink.Name, sink.Types, (e, token) => SendAsync(sink, e, token), ct);
        }

        foreach (var sink in options.Value.Teams)
        {
            sent += await PushAsync(sink.Name, sink.Types.Count > 0 ? sink.Types : TeamsSink.DefaultTypes, (e, token) => PostAsync(sink.Url, TeamsCard.For(e), token), ct);
        }

        return sent;
    }

    private async Task<int> PushAsync(string name, IReadOnlyList<string> types, Func<PublishedEvent, CancellationToken, Task<string?>> send, CancellationToken ct)
    {
        var state = await sinks.GetOrStartAsync(name, ct);
        if (state.NextAttemptAt is { } wait && wait > time.GetUtcNow())
        {
            return 0;
        }

        var sent = 0;
        var attempts = state.Attempts;
        foreach (var e in await feed.AfterAsync(state.LastEventId, 100, ct))
        {
            if (types.Count > 0 && !types.Contains(e.Type, StringComparer.Ordinal))
            {
                await sinks.AdvanceAsync(name, e.Id, delivered: false, ct);
                continue;
            }

            var error = await send(e, ct);
            if (error is null)
            {
                await sinks.AdvanceAsync(name, e.Id, delivered: true, ct);
                attempts = 0;
                sent++;
                continue;
            }

            attempts++;
            if (attempts >= options.Value.MaxAttempts)
            {
                logger.LogError("Sink {Sink}: event {Event} set aside after {Attempts} attempts: {Error}", name, e.Id, attempts, error);
                await sinks.DeadLetterAsync(name, e.Id, error, time.GetUtcNow(), ct);
                attempts = 0;
                continue;
            }

            var delay = TimeSpan.FromSeconds(Math.Min(3600, Math.Pow(2, attempts - 1)));
            logger.LogWarning("Sink {Sink}: event {Event} failed ({Error}); attempt {Attempt} of {Max}, next in {Delay}", name, e.Id, error, attempts, options.Value.MaxAttempts, delay);
            await sinks.FailAsync(name, error, time.GetUtcNow() + delay, ct);
            break;
        }

        return sent;
    }

    /// <summary>Null when the receiver took it; otherwise why not (status or network failure), never the body.</summary>
    private async Task<string?> SendAsync(WebhookSink sink, PublishedEvent e, CancellationToken ct)
    {
        var id = $"evt_{e.Id.ToString(CultureInfo.InvariantCulture)}";
        var body = JsonSerializer.Serialize(e, Json);
        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, sink.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(id, now, body, sink.Secrets));
        return await SendAsync(request, ct);
    }

    private async Task<string?> PostAsync(string url, string json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await SendAsync(request, ct);
    }

    private async Task<string?> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            using var response = await http.CreateClient(nameof(EventPusher)).SendAsync(request, ct);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return ex is TaskCanceledException ? "no answer within 10 s" : ex.Message;
        }
    }
}

/// <summary>`run`'s loop: every Events:PushEverySeconds, announce the deadlines that passed, then push to the webhooks.</summary>
internal sealed class EventPushService(EventPusher pusher, EventStore events, IOptions<EventsOptions> options, TimeProvider time, ILogger<EventPushService> logger) : BackgroundService
{
    [SuppressMessage("Design", "CA1031", Justification = "A failed pass (the database unreachable) is logged and the next one tries again.")]
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Clocks running out and steps going overdue are events too; then everything new goes out.
                await events.AnnounceDeadlinesAsync(time.GetUtcNow(), stoppingToken);
                if (options.Value.Webhooks.Count + options.Value.Teams.Count > 0)
                {
                    await pusher.PushOnceAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError("Pushing events failed: {Error}", ex.Message);
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
