using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AuditAgent.Core.Incidents;
using AuditAgent.Events;
using AuditAgent.Incidents;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AuditAgent.Tests.Events;

/// <summary>Events pushed to a real HTTP receiver, signed as Standard Webhooks describes, each delivered once, in order.</summary>
public sealed class WebhookTests
{
    private static readonly string SecretA = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string SecretB = "whsec_" + Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());

    private static async Task<(AgentHarness Agent, long Id)> AgentAsync(WebhookReceiver receiver, Backend backend = Backend.Sqlite, TimeProvider? time = null, int maxAttempts = 10)
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        var agent = await AgentHarness.StartAsync(tenant, backend: backend, time: time, settings: new Dictionary<string, string?>
        {
            ["Events:Sinks:Webhooks:0:Name"] = "siem",
            ["Events:Sinks:Webhooks:0:Url"] = receiver.Url,
            ["Events:Sinks:Webhooks:0:Secrets:0"] = SecretA,
            ["Events:Sinks:Webhooks:0:Secrets:1"] = SecretB,
            ["Events:MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture),
            ["Events:QuickRetries"] = "0", // each attempt is one request: the back-off between attempts is what these tests watch
        });
        await agent.ScanAndProcessAsync();
        return (agent, Assert.Single(await agent.IncidentsAsync()).Id);
    }

    /// <summary>
    /// How a receiver verifies a Standard Webhooks delivery with one of its secrets: the signature over
    /// id.timestamp.body, a timestamp within 5 minutes, and an id it has not taken before.
    /// </summary>
    private static bool Verifies(string secret, (string Id, string Timestamp, string Signature, string Body, int Status) r, HashSet<string>? seen = null, DateTimeOffset? now = null)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{r.Id}.{r.Timestamp}.{r.Body}")));
        var fresh = Math.Abs((now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds() - long.Parse(r.Timestamp, CultureInfo.InvariantCulture)) <= 300;
        return r.Signature.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)))
            && fresh && (seen?.Add(r.Id) ?? true);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task NewEvents_ArePostedInOrderOnce_SignedWithBothSecrets(Backend backend)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (agent, id) = await AgentAsync(receiver, backend);
        await using var _ = agent;
        var pusher = agent.Services.GetRequiredService<EventPusher>();
        var actions = agent.Services.GetRequiredService<IncidentActions>();

        var first = await pusher.PushOnceAsync(CancellationToken.None); // a new sink starts after the newest event
        await actions.AcknowledgeAsync(id, new Actor("sec@contoso.com"), null, CancellationToken.None);
        await actions.AssignAsync(id, "sam@contoso.com", new Actor("sec@contoso.com"), null, CancellationToken.None);
        var second = await pusher.PushOnceAsync(CancellationToken.None);
        var third = await pusher.PushOnceAsync(CancellationToken.None);

        Assert.Equal((0, 2, 0), (first, second, third));
        var requests = receiver.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains("\"type\":\"incident.acknowledged\"", requests[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"incident.assigned\"", requests[1].Body, StringComparison.Ordinal);
        Assert.All(requests, r => Assert.True(Verifies(SecretA, r) && Verifies(SecretB, r), r.Signature));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Assert.True(Verifies(SecretA, requests[0], seen));
        Assert.False(Verifies(SecretA, requests[0], seen)); // replayed: the receiver took this id already
        Assert.False(Verifies(SecretA, requests[1] with { Body = requests[1].Body.Replace("incident.assigned", "incident.resolved", StringComparison.Ordinal) })); // tampered
        Assert.False(Verifies(SecretA, requests[1], now: DateTimeOffset.UtcNow.AddMinutes(6))); // replayed later: too old
        Assert.False(Verifies("whsec_" + Convert.ToBase64String(new byte[32]), requests[1])); // another secret
        Assert.All(requests, r => Assert.InRange(long.Parse(r.Timestamp, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        Assert.NotEqual(requests[0].Id, requests[1].Id);
        Assert.Equal(2, Assert.Single(await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None)).Delivered);
    }

    [Fact]
    public async Task AFailingReceiver_GetsTheSameEventAgainAfterTheBackOff_AndItIsDeliveredOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (agent, id) = await AgentAsync(receiver, time: clock);
        await using var _ = agent;
        var pusher = agent.Services.GetRequiredService<EventPusher>();
        await pusher.PushOnceAsync(CancellationToken.None);
        await agent.Services.GetRequiredService<IncidentActions>().AcknowledgeAsync(id, new Actor("sec@contoso.com"), null, CancellationToken.None);
        receiver.Answers.Enqueue(503);
        receiver.Answers.Enqueue(500);

        await pusher.PushOnceAsync(CancellationToken.None);   // 503: wait 1 s
        await pusher.PushOnceAsync(CancellationToken.None);   // too early: nothing sent
        var afterTooEarly = receiver.Requests.Count;
        clock.Advance(TimeSpan.FromSeconds(1));
        await pusher.PushOnceAsync(CancellationToken.None);   // 500: wait 2 s
        clock.Advance(TimeSpan.FromSeconds(2));
        await pusher.PushOnceAsync(CancellationToken.None);   // 204
        await pusher.PushOnceAsync(CancellationToken.None);   // nothing new

        var requests = receiver.Requests.ToList();
        Assert.Equal(1, afterTooEarly);
        Assert.Equal([503, 500, 204], requests.Select(r => r.Status));
        Assert.Single(requests.Select(r => r.Id).Distinct());
        Assert.Equal(1, Assert.Single(await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None)).Delivered);
    }

    [Fact]
    public async Task AnEventRefusedTooOften_IsSetAside_AndTheNextOneGoes()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (agent, id) = await AgentAsync(receiver, time: clock, maxAttempts: 2);
        await using var _ = agent;
        var pusher = agent.Services.GetRequiredService<EventPusher>();
        await pusher.PushOnceAsync(CancellationToken.None);
        var actions = agent.Services.GetRequiredService<IncidentActions>();
        await actions.AcknowledgeAsync(id, new Actor("sec@contoso.com"), null, CancellationToken.None);
        await actions.AssignAsync(id, "sam@contoso.com", new Actor("sec@contoso.com"), null, CancellationToken.None);
        receiver.Answers.Enqueue(400);
        receiver.Answers.Enqueue(400);

        await pusher.PushOnceAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await pusher.PushOnceAsync(CancellationToken.None);

        var dead = Assert.Single(await agent.Services.GetRequiredService<SinkStore>().DeadLettersAsync(CancellationToken.None));
        Assert.Equal(("siem", "HTTP 400"), (dead.Sink, dead.Error));
        var requests = receiver.Requests.ToList();
        Assert.Equal([400, 400, 204], requests.Select(r => r.Status));
        Assert.Contains("\"type\":\"incident.assigned\"", requests[^1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_ABadUrlOrSecret_IsRefusedNamingTheKey()
    {
        var result = new EventSinksValidator().Validate(null, new EventsOptions
        {
            Sinks = new SinksOptions
            {
                Webhooks = [new WebhookSinkOptions { Name = "siem", Url = "http://siem.contoso.com/hook", Secrets = ["not-a-secret"] }, new WebhookSinkOptions { Name = "SIEM", Url = "https://x.example", Secrets = [SecretA], MinSeverity = "severe", Types = ["incident.opend"] }],
            },
        });

        Assert.Contains("Events:Sinks:Webhooks:0:Url must be the receiver's URL, https (plain http only for localhost) (it is 'http://siem.contoso.com/hook').", result.Failures!);
        Assert.Contains(result.Failures!, f => f.StartsWith("Events:Sinks:Webhooks:0:Secrets needs one or two secrets written whsec_<base64>", StringComparison.Ordinal));
        Assert.Contains("Events:Sinks:Webhooks:1:Name 'SIEM' is used by another sink; each keeps its own checkpoint.", result.Failures!);
        Assert.Contains("Events:Sinks:Webhooks:1:MinSeverity must be low, medium, high or critical (it is 'severe').", result.Failures!);
        Assert.Contains("Events:Sinks:Webhooks:1:Types has 'incident.opend', which is not an event type (docs/events.md lists them).", result.Failures!);
    }
}
