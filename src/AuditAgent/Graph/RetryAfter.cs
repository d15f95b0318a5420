using System.Globalization;
using System.Net.Http.Headers;

namespace AuditAgent.Graph;

/// <summary>
/// Graph's Retry-After, read the way Graph sends it: HTTP allows whole seconds or a date, but Graph
/// sometimes sends decimals ("0.5"), which .NET's typed header and the SDK's retry handler do not read
/// (the SDK then waits its fixed delay instead).
/// </summary>
public static class RetryAfter
{
    /// <param name="now">Now, for a Retry-After given as a date.</param>
    public static TimeSpan? Read(HttpResponseHeaders headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!headers.TryGetValues("Retry-After", out var values) || values.FirstOrDefault() is not { } raw)
        {
            return null;
        }

        if (double.TryParse(raw, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxSeconds));
        }

        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? TimeSpan.FromSeconds(Math.Clamp((date - now).TotalSeconds, 0, MaxSeconds))
            : null;
    }

    /// <summary>Longer than any wait worth reporting exactly; a day is as good as forever to a scan.</summary>
    private const double MaxSeconds = 86_400;

    public static GraphThrottledException TooLong(TimeSpan asked, int maxSeconds) =>
        new($"Graph throttled the request and asked to wait {asked.TotalSeconds:0} s, longer than Graph:MaxRetryAfterSeconds ({maxSeconds} s); the next scan tries again");
}

/// <summary>
/// Sits under the SDK's retry handler and rewrites a decimal Retry-After as whole seconds, rounded up,
/// so that the retry handler honours it (never retrying earlier than Graph asked). A wait longer than
/// Graph:MaxRetryAfterSeconds fails the request at once: an hour's wait inside a scan would look like
/// a hang, and the next scan asks again anyway.
/// </summary>
internal sealed class RetryAfterNormalizer(int maxRetryAfterSeconds, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode is 429 or 503 or 504 && RetryAfter.Read(response.Headers, time.GetUtcNow()) is { } asked && asked.TotalSeconds > maxRetryAfterSeconds)
        {
            response.Dispose();
            throw RetryAfter.TooLong(asked, maxRetryAfterSeconds);
        }

        if (response.Headers.RetryAfter is null && RetryAfter.Read(response.Headers, time.GetUtcNow()) is { } delay)
        {
            response.Headers.Remove("Retry-After");
            response.Headers.TryAddWithoutValidation("Retry-After", ((int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }

        return response;
    }
}
