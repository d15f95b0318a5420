using System.Data.Common;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Scanning;

/// <summary>The database locked by someone else in the middle of a scan: the scan fails saying so, and the next one recovers.</summary>
public sealed class DatabaseOutageTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task DatabaseLockedMidScan_ScanFailsVisibly_NextScanRecoversEveryFinding(Backend backend)
    {
        var tenant = Tenant(mailboxes: 24, messages: 40, seed: 31);
        DbConnection? locker = null;
        DbTransaction? lockTx = null;
        AgentHarness? harness = null;
        var deltaRequests = 0;
        SimFault? Intercept(SimOperation op)
        {
            if (op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) == 25)
            {
                // Another program takes the whole database for itself while pages are being written.
                locker = harness!.Services.GetRequiredService<AuditAgent.Storage.Database>().OpenAsync(default).GetAwaiter().GetResult();
                lockTx = locker.BeginTransaction();
                locker.Execute(backend == Backend.Sqlite ? "DELETE FROM meta WHERE key = 'no-such-key'" : "LOCK TABLE mailboxes IN ACCESS EXCLUSIVE MODE", transaction: lockTx);
            }

            return null;
        }

        await using var agent = harness = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Interceptor = Intercept },
            new Dictionary<string, string?> { ["Storage:CommandTimeoutSeconds"] = "1", ["Graph:PageSize"] = "8" }, backend: backend);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => agent.ScanAsync());
        Assert.Matches("database is locked|timeout|Timeout", error.ToString());
        await lockTx!.RollbackAsync();
        await locker!.DisposeAsync();

        var recovered = await agent.ScanAsync();

        Assert.Equal("succeeded", recovered.Status);
        var findings = await agent.FindingsAsync();
        Assert.Equal(Keys(tenant.ExpectedFindings(30)), Keys(findings));
        Assert.Equal(findings.Count, Keys(findings).Count);
    }
}
