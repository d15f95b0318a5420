using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Serialization.Json;

namespace AuditAgent.Graph;

/// <summary>One request's answer inside a $batch: its value, or the error Graph gave for it.</summary>
public sealed record BatchAnswer<T>(T? Value, ODataError? Error);

/// <summary>
/// GET requests sent through $batch, 20 to a request. Graph throttles each part on its own and the SDK does
/// not retry a 429 (or 503/504) inside a batch response, so those parts are sent again after their
/// Retry-After, up to <c>maxAttempts</c> times. A request missing from the result (throttled to the end, a
/// passing back-end error, a batch that failed whole, an answer that could not be read) is the caller's to
/// send on its own or leave for later.
/// </summary>
public sealed class GraphBatch(GraphServiceClient client, TransientRetry retry, int maxRetryAfterSeconds)
{
    /// <summary>Graph's limit of requests in one $batch.</summary>
    public const int Limit = 20;

    /// <summary>A GET of a path under the client's base URL ("/users/{id}/mailboxSettings").</summary>
    public HttpRequestMessage Get(string pathAndQuery) =>
        new(HttpMethod.Get, new Uri(client.RequestAdapter.BaseUrl!.TrimEnd('/') + pathAndQuery));

    /// <param name="requests">Each request's key (unique) and how to build it (a retried part is built again).</param>
    /// <param name="read">Reads a successful part's JSON; an exception leaves the part unanswered.</param>
    public Task<IReadOnlyDictionary<string, BatchAnswer<T>>> GetAsync<T>(
        IReadOnlyList<(string Key, Func<HttpRequestMessage> Request)> requests,
        Func<string, JsonElement, T> read,
        int parallelBatches,
        int maxAttempts,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(read);
        return GetUtf8Async(requests, (key, utf8) =>
        {
            using var document = JsonDocument.Parse(utf8);
            return read(key, document.RootElement);
        }, parallelBatches, maxAttempts, ct);
    }

    /// <param name="requests">Each request's key (unique) and how to build it (a retried part is built again).</param>
    /// <param name="read">Reads a successful part's body (UTF-8 JSON, as Graph sent it); an exception leaves the part unanswered.</param>
    public async Task<IReadOnlyDictionary<string, BatchAnswer<T>>> GetUtf8Async<T>(
        IReadOnlyList<(string Key, Func<HttpRequestMessage> Request)> requests,
        Func<string, byte[], T> read,
        int parallelBatches,
        int maxAttempts,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(read);
        var results = new ConcurrentDictionary<string, BatchAnswer<T>>(StringComparer.Ordinal);
        var pending = requests.ToList();
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var throttled = new ConcurrentBag<((string Key, Func<HttpRequestMessage> Request) Item, TimeSpan RetryAfter)>();
            await Parallel.ForEachAsync(pending.Chunk(Limit), new ParallelOptions { MaxDegreeOfParallelism = parallelBatches, CancellationToken = ct }, async (chunk, token) =>
            {
                var batch = new BatchRequestContentCollection(client, Limit);
                var byStep = new Dictionary<string, (string Key, Func<HttpRequestMessage> Request)>(StringComparer.Ordinal);
                foreach (var item in chunk)
                {
                    var id = (byStep.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    batch.AddBatchRequestStep(new BatchRequestStep(id, item.Request()));
                    byStep[id] = item;
                }

                try
                {
                    var response = await client.Batch.PostAsync(batch, token);
                    foreach (var (id, item) in byStep)
                    {
                        using var part = await response.GetResponseByIdAsync(id);
                        var status = (int)part.StatusCode;
                        if (status is 429 or 503 or 504)
                        {
                            retry.Metrics?.Throttled("batch_part", Graph.RetryAfter.Read(part.Headers, retry.Time.GetUtcNow()));
                            if (attempt < maxAttempts && RetryAfter(part) is { } wait)
                            {
                                throttled.Add((item, wait));
                            }

                            continue;
                        }

                        if (status is 500 or 502)
                        {
                            continue;
                        }

                        var body = await part.Content.ReadAsByteArrayAsync(token);
                        if (!part.IsSuccessStatusCode)
                        {
                            using var document = JsonDocument.Parse(body);
                            results[item.Key] = new BatchAnswer<T>(default, ToError(document.RootElement, status));
                            continue;
                        }

                        try
                        {
                            results[item.Key] = new BatchAnswer<T>(read(item.Key, body), null);
                        }
                        catch (Exception ex) when (ex is InvalidDataException or JsonException or InvalidOperationException or FormatException)
                        {
                            // An answer that cannot be read: left for the caller to send on its own.
                        }
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // The batch failed (refused, timed out, cut off, too large): its requests are left unanswered.
                }
            });

            pending = throttled.Select(t => t.Item).ToList();
            if (pending.Count > 0)
            {
                await Task.Delay(throttled.Max(t => t.RetryAfter), retry.Time, ct);
            }
        }

        return results;
    }

    /// <summary>How long a throttled part waits, or null when Graph asks for longer than Graph:MaxRetryAfterSeconds.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage part) =>
        Graph.RetryAfter.Read(part.Headers, retry.Time.GetUtcNow()) is { } delay
            ? delay.TotalSeconds > maxRetryAfterSeconds ? null : delay
            : TimeSpan.FromSeconds(1);

    private static ODataError ToError(JsonElement root, int status)
    {
        ODataError error;
        try
        {
            error = new JsonParseNode(root).GetObjectValue(ODataError.CreateFromDiscriminatorValue) ?? new ODataError();
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException or FormatException)
        {
            error = new ODataError();
        }

        error.ResponseStatusCode = status;
        return error;
    }
}
