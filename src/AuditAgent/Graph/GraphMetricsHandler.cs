using AuditAgent.Telemetry;

namespace AuditAgent.Graph;

/// <summary>
/// Counts every attempt that reaches Graph (it sits under the SDK's retry handler): its status code, and when Graph
/// throttled it, the Retry-After it asked for. A request that got no answer is counted by its error type.
/// </summary>
internal sealed class GraphMetricsHandler(AgentMetrics metrics, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.GraphFailed(ex);
            throw;
        }

        var status = (int)response.StatusCode;
        metrics.GraphResponse(status);
        if (status is 429 or 503 or 504 && RetryAfter.Read(response.Headers, time.GetUtcNow()) is var retryAfter && (status == 429 || retryAfter is not null))
        {
            metrics.Throttled("request", retryAfter);
        }

        return response;
    }
}
