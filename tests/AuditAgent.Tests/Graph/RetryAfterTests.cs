using System.Net;
using AuditAgent.Graph;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Graph;

/// <summary>Graph's Retry-After as Graph sends it, over real HTTP from the simulator.</summary>
public sealed class RetryAfterTests
{
    [Theory]
    [InlineData("0.3", 1)]
    [InlineData("1.5", 2)]
    [InlineData("2", 2)]
    public async Task DecimalRetryAfter_ReachesTheSdksRetryHandlerAsWholeSecondsRoundedUp(string sent, int expectedSeconds)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        await using var simulator = await SimulatorServer.StartAsync(t.Tenant, new SimulatorOptions
        {
            Interceptor = op => op.Kind == "delta" ? new SimFault(429, "TooManyRequests", "Too many requests.") { RetryAfter = sent } : null,
        });
        using var client = new HttpClient(new RetryAfterNormalizer(120, TimeProvider.System) { InnerHandler = new SocketsHttpHandler() });
        client.DefaultRequestHeaders.Authorization = new("Bearer", simulator.Token);

        using var response = await client.GetAsync(new Uri($"{simulator.BaseUrl}/users/{ann.Id}/mailFolders/sentitems/messages/delta"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetryAfter.Read(response.Headers, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void RetryAfter_InABatchPart_IsReadWithItsFraction()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("Retry-After", "1.25");

        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1.25), RetryAfter.Read(response.Headers, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void RetryAfter_AsADate_IsTheTimeLeftOnTheGivenClock()
    {
        var now = new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.TryAddWithoutValidation("Retry-After", "Sun, 29 Nov 2026 10:00:45 GMT");

        Assert.Equal(TimeSpan.FromSeconds(45), RetryAfter.Read(response.Headers, now));
        Assert.Equal(TimeSpan.Zero, RetryAfter.Read(response.Headers, now.AddMinutes(5)));
    }
}
