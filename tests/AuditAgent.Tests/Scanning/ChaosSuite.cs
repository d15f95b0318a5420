using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Xunit.Abstractions;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>
/// Every fault Graph and the network produce, mixed at random across seeded runs: 429 with and without
/// Retry-After (decimal too), 500/502/503/504, all of them inside $batch responses as well, connection
/// resets, bodies cut off mid-JSON, answers slower than the client's timeout, bodies that stall after a
/// few bytes or trickle a byte at a time (single requests and whole $batch answers), a delta link that
/// expires mid-round, a mailbox outside the app's scope (403), a deleted one (404), one whose next link
/// never advances and one throttled for an hour. Each run must end with exactly a fault-free run's
/// findings for every other mailbox, the four broken ones reported with their reason.
/// </summary>
public sealed class ChaosSuite(ITestOutputHelper output)
{
    [Fact]
    public async Task SeededRunsUnderEveryFault_EqualAFaultFreeScan()
    {
        var figures = new Figures("chaos suite");
        for (var run = 0; run < Figures.Runs(inCi: 4); run++)
        {
            await RunAsync(700 + run, figures);
        }

        output.WriteLine(figures.Report());
        Assert.Equal(0, figures.Differences);
        Assert.Equal(16, figures.Kinds.Count(k => k.Value > 0)); // every kind of fault was injected at least once
    }

    private async Task RunAsync(int seed, Figures figures)
    {
        figures.Run();
        var tenant = Tenant(mailboxes: 24, messages: 60, seed: seed);
        var injected = 0;
        var mailboxes = tenant.ReadableMailboxes.ToList();
        var (forbidden, deleted, expiring, endless, throttled) = (mailboxes[1], mailboxes[2], mailboxes[3], mailboxes[4], mailboxes[6]);
        var random = new Random(seed);
        SimFault? Fault(string kind, SimFault fault)
        {
            Interlocked.Increment(ref injected);
            figures.Fault(kind);
            return fault;
        }

        SimFault? Intercept(SimOperation op)
        {
            if (op.Kind == "delta" && op.MailboxId == forbidden.Id)
            {
                return Fault("403 mailbox outside the app's scope", new SimFault(403, "ErrorAccessDenied", "Access to OData is disabled."));
            }

            if (op.Kind == "delta" && op.MailboxId == deleted.Id)
            {
                return Fault("404 deleted user", new SimFault(404, "ErrorInvalidUser", $"The requested user '{deleted.Id}' is invalid."));
            }

            if (op.Kind == "delta" && op.MailboxId == endless.Id && op.Sequence >= 2)
            {
                return Fault("endless next link", SimFault.Delivered(SimWire.RepeatedLink));
            }

            if (op.Kind == "delta" && op.MailboxId == throttled.Id)
            {
                return Fault("429 with a Retry-After of an hour", new SimFault(429, "ApplicationThrottled", "Too many requests.", 3600));
            }

            if (op.Kind == "delta" && op.MailboxId == expiring.Id && op.Sequence == 2)
            {
                expiring.InvalidateDeltaTokens();
                figures.Fault("delta link expired mid-round");
            }

            if (op.Kind is "sendMail")
            {
                return null;
            }

            double roll;
            lock (random)
            {
                roll = random.NextDouble();
            }

            return roll switch
            {
                < 0.03 => Fault("429 with Retry-After", new SimFault(429, "TooManyRequests", "Too many requests.", 0)),
                < 0.05 => Fault("429 without Retry-After", new SimFault(429, "TooManyRequests", "Too many requests.")),
                < 0.065 => Fault("429 with a decimal Retry-After", new SimFault(429, "TooManyRequests", "Too many requests.") { RetryAfter = "0.3" }),
                < 0.08 => Fault("500", new SimFault(500, "InternalServerError", "An internal server error occurred.")),
                < 0.09 => Fault("502", new SimFault(502, "BadGateway", "Bad gateway.")),
                < 0.11 => Fault("503", new SimFault(503, "ServiceUnavailable", "The service is temporarily unavailable.", 0)),
                < 0.12 => Fault("504", new SimFault(504, "GatewayTimeout", "The gateway timed out.", 0)),
                < 0.125 => Fault("answer slower than the client timeout", SimFault.Slow(TimeSpan.FromSeconds(2))),
                < 0.13 => Fault("body stalled after a few bytes", SimFault.Delivered(SimWire.StalledBody)),
                < 0.135 => Fault("body trickled a byte at a time", SimFault.Delivered(SimWire.TrickledBody)),
                _ => null,
            };
        }

        await using var agent = await AgentHarness.StartAsync(
            tenant.Tenant,
            new SimulatorOptions { Interceptor = Intercept, TransportFaultRate = 0.05, FaultSeed = seed },
            new Dictionary<string, string?> { ["Graph:PageSize"] = "8", ["Graph:TimeoutSeconds"] = "1" });

        var first = await agent.ScanAsync();
        var user = mailboxes[5];
        user.AddSentItem(TenantGenerator.Exposure(user, "after-chaos", DateTimeOffset.UtcNow, visible: 12, seed: seed));
        var rescan = await agent.ScanAsync();

        // The rest of what the simulator counts are its connection resets and bodies cut off mid-JSON.
        figures.Fault("connection reset or body cut off", (int)agent.Simulator.Counters.FaultsInjected - Volatile.Read(ref injected));
        string[] broken = [forbidden.Id, deleted.Id, endless.Id, throttled.Id];
        var expected = Keys(tenant.ExpectedFindings(30).Where(e => !broken.Contains(e.MailboxId))).Append((user.Id, "after-chaos")).ToHashSet();
        var findings = await agent.FindingsAsync();
        // The endless mailbox keeps what it read before its link stopped advancing: a part of its findings, never others.
        var endlessExpected = Keys(tenant.ExpectedFindings(30).Where(e => e.MailboxId == endless.Id));
        var actual = Keys(findings.Where(f => f.MailboxId != endless.Id));
        var endlessActual = Keys(findings.Where(f => f.MailboxId == endless.Id));
        static string Code(string reason) =>
            reason.Contains("403 ErrorAccessDenied", StringComparison.Ordinal) ? "403"
            : reason.Contains("404 ErrorInvalidUser", StringComparison.Ordinal) ? "404"
            : reason.Contains("same @odata.nextLink twice", StringComparison.Ordinal) ? "endless"
            : reason.Contains("asked to wait 3600 s", StringComparison.Ordinal) ? "throttled"
            : reason;
        var failures = first.Failures.Select(f => (f.MailboxId, Code: Code(f.Reason))).Order().ToList();
        var differences = expected.Except(actual).Count() + actual.Except(expected).Count() + (findings.Count - actual.Count - endlessActual.Count)
            + endlessActual.Except(endlessExpected).Count()
            + (failures.SequenceEqual(new[] { (forbidden.Id, "403"), (deleted.Id, "404"), (endless.Id, "endless"), (throttled.Id, "throttled") }.Order()) ? 0 : 1)
            + (rescan.Failures.Count == 4 ? 0 : 1);
        figures.Difference(differences);
        if (differences > 0)
        {
            output.WriteLine($"seed {seed}: missing {string.Join(", ", expected.Except(actual))}; unexpected {string.Join(", ", actual.Except(expected))}; "
                + $"failures {string.Join("; ", first.Failures.Select(f => f.Reason))}; rescan failures {rescan.Failures.Count}");
        }
    }
}
