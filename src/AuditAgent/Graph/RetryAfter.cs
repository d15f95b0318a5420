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
    public static TimeSpan? Read(HttpResponseHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!headers.TryGetValues("Retry-After", out var values) || values.FirstOrDefault() is not { } raw)
        {
            return null;
        }

        if (double.TryParse(raw, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 600));
        }

        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? TimeSpan.FromSeconds(Math.Clamp((date - DateTimeOffset.UtcNow).TotalSeconds, 0, 600))
            : null;
    }
}

/// <summary>
/// Sits under the SDK's retry handler and rewrites a decimal Retry-After as whole seconds, rounded up,
/// so that the retry handler honours it (never retrying earlier than Graph asked).
/// </summary>
internal sealed class RetryAfterNormalizer : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.Headers.RetryAfter is null && RetryAfter.Read(response.Headers) is { } delay)
        {
            response.Headers.Remove("Retry-After");
            response.Headers.TryAddWithoutValidation("Retry-After", ((int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }

        return response;
    }
}
