using AuditAgent.Graph;
using Microsoft.Extensions.Time.Testing;

namespace AuditAgent.Tests.Graph;

/// <summary>Retries of a whole Graph read: which failures, and on whose clock the waits run.</summary>
public sealed class TransientRetryTests
{
    [Fact]
    public async Task AConnectionFailure_IsRetriedAfterTheDelay_OnTheGivenClock()
    {
        var clock = new FakeTimeProvider();
        var retry = new TransientRetry(Retries: 2, Delay: TimeSpan.FromSeconds(3), clock);
        var attempts = 0;

        var read = retry.RunAsync(() => ++attempts == 1 ? Task.FromException<int>(new HttpRequestException("reset")) : Task.FromResult(attempts), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(2.9));
        var early = read.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False(early);
        Assert.Equal(2, await read);
    }

    [Fact]
    public async Task ANonTransientFailure_IsNotRetried()
    {
        var retry = new TransientRetry(Retries: 5, Delay: TimeSpan.Zero, TimeProvider.System);
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => retry.RunAsync<int>(() => { attempts++; throw new InvalidOperationException("a bug"); }, CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task RetriesRunOut_TheLastFailureIsThrown()
    {
        var retry = new TransientRetry(Retries: 2, Delay: TimeSpan.Zero, TimeProvider.System);
        var attempts = 0;

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => retry.RunAsync<int>(() => Task.FromException<int>(new HttpRequestException($"reset {++attempts}")), CancellationToken.None));

        Assert.Equal(3, attempts);
        Assert.Equal("reset 3", error.Message);
    }
}
