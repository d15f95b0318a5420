using System.Text.Json;

namespace AuditAgent.Graph;

/// <summary>
/// Retries what the SDK's retry handler does not: it retries 429/503/504 answers, but not a connection
/// reset before an answer, a body cut off half way, a request that timed out, a 500 or 502 (Graph's
/// passing back-end errors), or a 503/504 still there after its own retries. A Graph GET of a page or a
/// delta link can simply be sent again.
/// </summary>
/// <param name="Retries">Attempts after the first (Graph:MaxRetries).</param>
/// <param name="Delay">The wait before the first retry, growing linearly (Graph:RetryDelaySeconds).</param>
/// <param name="Time">Whose clock the waits run on.</param>
public sealed record TransientRetry(int Retries, TimeSpan Delay, TimeProvider Time)
{
    /// <summary>Where $batch parts that Graph throttled are counted (the handler counts whole requests).</summary>
    public Telemetry.AgentMetrics? Metrics { get; init; }

    public static TransientRetry From(GraphOptions options, TimeProvider time, Telemetry.AgentMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.MaxRetries, TimeSpan.FromSeconds(options.RetryDelaySeconds), time) { Metrics = metrics };
    }

    public async Task<T> RunAsync<T>(Func<Task<T>> action, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(action);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when (attempt < Retries && IsTransient(ex, ct))
            {
                await Task.Delay(Delay * (attempt + 1), Time, ct);
            }
        }
    }

    public static bool IsTransient(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or IOException or JsonException or GraphTimeoutException
        or Microsoft.Kiota.Abstractions.ApiException { ResponseStatusCode: 500 or 502 or 503 or 504 }
        || (ex is TaskCanceledException && !ct.IsCancellationRequested)
        // An error answer whose body could not be read (it stalled past the deadline, or was cut off): the SDK reports
        // its status with the failed read inside, and what Graph meant is only known by asking again.
        || (ex is Microsoft.Kiota.Abstractions.ApiException { InnerException: { } inner } && IsTransient(inner, ct));
}
