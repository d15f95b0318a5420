using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AuditAgent.Events.Sinks;

/// <summary>POSTs each event to a URL, signed as the Standard Webhooks specification describes (docs/events.md shows the check).</summary>
public sealed class WebhookSink(WebhookSinkOptions options, HttpClient http, TimeProvider time) : IEventSink
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public SinkOptions Options => options;

    public int BatchSize => 1;

    public async Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        var e = events[0];
        var id = $"evt_{e.Id.ToString(CultureInfo.InvariantCulture)}";
        var body = JsonSerializer.Serialize(e, Json);
        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(id, now, body, options.Secrets));
        return await http.DeliverAsync(request, ct);
    }
}

/// <summary>Posts an Adaptive Card per event to a Teams channel's Workflows webhook.</summary>
public sealed class TeamsSink(TeamsSinkOptions options, HttpClient http) : IEventSink
{
    public SinkOptions Options => options;

    public int BatchSize => 1;

    public async Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = new StringContent(TeamsCard.For(events[0]), Encoding.UTF8, "application/json") };
        return await http.DeliverAsync(request, ct);
    }
}

internal static class HttpDelivery
{
    /// <summary>Sends a request and says what came of it; the body of an answer is never read into an error (it may echo data).</summary>
    public static async Task<Delivery> DeliverAsync(this HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            using var response = await http.SendAsync(request, ct);
            return Delivery.Of(response);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            return Delivery.Failed(ex);
        }
    }
}
