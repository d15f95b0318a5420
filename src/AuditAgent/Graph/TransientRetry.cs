using System.Text.Json;

namespace AuditAgent.Graph;

/// <summary>
/// Retries what the SDK's retry handler does not: it retries 429/503/504 answers, but not a connection
/// reset before an answer, a body cut off half way, a request that timed out, a 500 or 502 (Graph's
/// passing back-end errors), or a 503/504 still there after its own retries. A Graph GET of a page or a
/// delta link can simply be sent again.
/// </summary>
public static class TransientRetry
{
    public static async Task<T> RunAsync<T>(Func<Task<T>> action, int retries, TimeSpan delay, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(action);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when (attempt < retries && IsTransient(ex, ct))
            {
                await Task.Delay(delay * (attempt + 1), ct);
            }
        }
    }

    public static bool IsTransient(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or IOException or JsonException or GraphTimeoutException
        or Microsoft.Kiota.Abstractions.ApiException { ResponseStatusCode: 500 or 502 or 503 or 504 }
        || (ex is TaskCanceledException && !ct.IsCancellationRequested);
}
