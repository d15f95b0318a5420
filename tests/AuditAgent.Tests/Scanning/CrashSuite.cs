using System.Diagnostics;
using AuditAgent.Notifications;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>
/// The real executable killed with SIGKILL at random moments and restarted, many times: during the scan
/// (at a random Graph request), at a random time (scanning or turning findings into incidents), and while
/// the digest and the escalations are being sent (after Graph accepted a message, before the agent heard
/// back). The end state must equal an uninterrupted run: no finding lost or duplicated, no incident opened
/// twice, no digest or escalation sent twice.
/// </summary>
public sealed class CrashSuite(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> Mail = Notifications.NotificationTests.Mail(new() { ["Graph:PageSize"] = "10" });

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task KilledAtRandomMoments_EndsEqualToAnUninterruptedRun(Backend backend)
    {
        Backends.Require(backend);
        var figures = new Figures($"crash suite {backend}");
        for (var run = 0; run < Figures.Runs(inCi: 2); run++)
        {
            await RunAsync(backend, 900 + run, figures);
        }

        output.WriteLine(figures.Report());
        Assert.Equal(0, figures.Differences);
    }

    private static GeneratedTenant SeededTenant(int seed)
    {
        var tenant = Tenant(mailboxes: 20, messages: 40, seed: seed);
        tenant.Tenant.AddUser(new SimUser("id-auditagent") { DisplayName = "AuditAgent", Mail = "auditagent@contoso.com", UserPrincipalName = "auditagent@contoso.com" });
        return tenant;
    }

    private async Task RunAsync(Backend backend, int seed, Figures figures)
    {
        figures.Run();
        var random = new Random(seed);
        var reference = await ReferenceAsync(seed);

        var tenant = SeededTenant(seed);
        Process? child = null;
        var killAt = long.MaxValue;
        var requests = 0L;
        var killSend = false;
        SimFault? Intercept(SimOperation op)
        {
            var kill = op.Kind == "sendMail" ? Volatile.Read(ref killSend) : Interlocked.Increment(ref requests) == Volatile.Read(ref killAt);
            if (kill && child is { HasExited: false } victim)
            {
                // The operation itself still completes: the agent dies before it hears the answer.
                victim.Kill(entireProcessTree: true);
                Volatile.Write(ref killSend, false);
                figures.Kill();
            }

            return null;
        }

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept }, Mail, backend: backend);
        using var folder = new TempFolder();
        async Task<int> RunChildAsync(Func<Task>? killer, params string[] args)
        {
            child = AgentProcess.Start(agent.Settings, folder.Path, args);
            var drain = Task.WhenAll(child.StandardOutput.ReadToEndAsync(), child.StandardError.ReadToEndAsync());
            var killing = killer?.Invoke() ?? Task.CompletedTask;
            await child.WaitForExitAsync();
            await drain;
            await killing;
            return child.ExitCode;
        }

        // 1. Killed at a random Graph request of the scan.
        Volatile.Write(ref killAt, random.Next(1, (int)reference.Requests));
        await RunChildAsync(null, "scan");
        Volatile.Write(ref killAt, long.MaxValue);

        // 2. Killed at a random moment: still scanning, or turning findings into incidents.
        var delay = TimeSpan.FromMilliseconds(random.Next(200, 2500));
        await RunChildAsync(async () =>
        {
            await Task.Delay(delay);
            if (child is { HasExited: false } victim)
            {
                victim.Kill(entireProcessTree: true);
                figures.Kill();
            }
        }, "scan");

        // 3. Restarted until it completes.
        for (var attempt = 0; attempt < 5 && await RunChildAsync(null, "scan") is not (0 or 3); attempt++)
        {
        }

        // 4. Killed while sending the digest, after Graph took it; then sent again.
        Volatile.Write(ref killSend, true);
        await RunChildAsync(null, "digest", "--send");
        Volatile.Write(ref killSend, false);
        await RunChildAsync(null, "digest", "--send");

        // 5. Killed while sending the first escalation; then run again.
        Volatile.Write(ref killSend, true);
        await RunChildAsync(null, "escalate");
        Volatile.Write(ref killSend, false);
        await RunChildAsync(null, "escalate");

        var result = await Outcome.OfAsync(agent);
        var differences = result.DifferencesFrom(reference.Outcome);
        if (differences > 0)
        {
            output.WriteLine($"seed {seed} on {backend}: {result.Describe(reference.Outcome)}");
        }

        figures.Difference(differences);
    }

    private static async Task<(Outcome Outcome, long Requests)> ReferenceAsync(int seed)
    {
        await using var alone = await AgentHarness.StartAsync(SeededTenant(seed).Tenant, settings: Mail);
        await alone.ScanAndProcessAsync();
        var requests = alone.Simulator.Counters.HttpRequests;
        await alone.Services.GetRequiredService<DigestService>().SendAsync(CancellationToken.None);
        var escalations = await alone.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);
        Assert.True(escalations.Delivery.Sent > 0, "the seeded tenant should have incidents to escalate");
        return (await Outcome.OfAsync(alone), requests);
    }
}
