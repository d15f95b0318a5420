using System.Net;
using AuditAgent.Telemetry;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace AuditAgent.Graph;

/// <summary>
/// The one place that builds a <see cref="GraphServiceClient"/>: cloud, credential, base URL,
/// allowed hosts and the handler pipeline.
/// </summary>
public static class GraphClientFactory
{
    /// <param name="clock">Fed with every answer's Date header; a fresh one when the caller does not need it.</param>
    /// <param name="metrics">Counts each attempt's status and Graph's throttling; none for one-off commands (consent, doctor).</param>
    public static GraphServiceClient Create(GraphOptions options, GraphClock? clock = null, AgentMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cloud = CloudEndpoints.For(options.Cloud);
        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl) ? cloud.GraphBaseUrl : options.BaseUrl.TrimEnd('/');
        var host = new Uri(baseUrl).Host;

        // Tokens are attached only for allowed hosts; without naming ours, a non-Graph host (the
        // simulator) would silently get no Authorization header at all.
        IAuthenticationProvider auth = string.IsNullOrWhiteSpace(options.AccessToken)
            ? new AzureIdentityAuthenticationProvider(CredentialFactory.Create(options), [host], null, true, cloud.Scope)
            : new BaseBearerTokenAuthenticationProvider(new FixedTokenProvider(options.AccessToken, host));

        var handlers = GraphClientFactoryHandlers(options, clock ?? new GraphClock(), metrics);
        var httpClient = Microsoft.Graph.GraphClientFactory.Create(handlers, finalHandler: new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        // Each attempt has its own deadline over the whole response (ResponseDeadlineHandler); retries are
        // bounded by Graph:MaxRetries and Graph:MaxRetryAfterSeconds, so no overall timeout is needed.
        httpClient.Timeout = Timeout.InfiniteTimeSpan;
        return new GraphServiceClient(httpClient, auth, baseUrl);
    }

    private static List<DelegatingHandler> GraphClientFactoryHandlers(GraphOptions options, GraphClock clock, AgentMetrics? metrics)
    {
        // The SDK's default pipeline, with the retry handler tuned from configuration: it already
        // honours Retry-After on 429/503/504, so nothing here retries by hand.
        var handlers = Microsoft.Graph.GraphClientFactory.CreateDefaultHandlers(null).ToList();
        var index = handlers.FindIndex(h => h is RetryHandler);
        var retry = new RetryHandler(new RetryHandlerOption { MaxRetry = options.MaxRetries, Delay = options.RetryDelaySeconds });
        if (index >= 0)
        {
            handlers[index] = retry;
        }
        else
        {
            handlers.Add(retry);
        }

        // Under the retry handler: it sees Graph's decimal Retry-After as whole seconds, never waits
        // longer than allowed, and each of its attempts has one deadline over the whole response.
        handlers.Add(new GraphClockHandler(clock));
        // A Retry-After date is read against the real clock, which the SDK's retry handler waits on too.
        handlers.Add(new RetryAfterNormalizer(options.MaxRetryAfterSeconds, TimeProvider.System));
        handlers.Add(new ResponseDeadlineHandler(TimeSpan.FromSeconds(options.TimeoutSeconds), options.MaxResponseMegabytes * 1024L * 1024L));
        if (metrics is not null)
        {
            handlers.Add(new GraphMetricsHandler(metrics, TimeProvider.System));
        }

        return handlers;
    }

    private sealed class FixedTokenProvider(string token, string host) : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new([host]);

        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? token : string.Empty);
    }
}
