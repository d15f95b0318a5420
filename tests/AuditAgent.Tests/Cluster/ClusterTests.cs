using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Scanning;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AuditAgent.Tests.Cluster;

/// <summary>
/// Three `auditagent run` processes against one PostgreSQL database and one simulated tenant of 300
/// mailboxes: Quartz's clustered store fires the scan on one of them, the other two join the cycle
/// through mailbox leases, and the result equals one agent scanning alone.
/// </summary>
public sealed class ClusterTests
{
    private const int Mailboxes = 300;
    private const int Seed = 11;

    [SkippableFact]
    public async Task ThreeAgents_ShareOneCycle_EveryMailboxReadOnce_SameResultAsOneAgent()
    {
        Backends.Require(Backend.PostgreSql);
        var reference = await ReferenceAsync();
        var tenant = Tenants.Tenant(Mailboxes, messages: 40, seed: Seed);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(20) }, backend: Backend.PostgreSql);
        await using var cluster = new Agents(agent, count: 3, leaseSeconds: 60);

        await cluster.WaitForCycleAsync();

        var starts = agent.Simulator.Counters.RoundStartsByMailbox;
        var scannable = tenant.ReadableMailboxes.Count;
        Assert.Equal(scannable, starts.Count);
        Assert.All(starts, s => Assert.Equal(1, s.Value));
        Assert.Equal(reference.MessagesServed, agent.Simulator.Counters.MessagesServed);
        var result = await Outcome.OfAsync(agent);
        Assert.True(result.DifferencesFrom(reference.Outcome) == 0, result.Describe(reference.Outcome));
        Assert.Equal(1, (await Status(agent)).Cycle!.Id);
        Assert.Equal(1, await cluster.ScheduledScanRunsAsync()); // Quartz fired the scan on one agent; the others joined

        var (code, output, error) = await AgentProcess.RunAsync(cluster.Settings, cluster.Folder, "status", "--format", "json");
        Assert.True(code == 0, error);
        var status = JsonDocument.Parse(output).RootElement.GetProperty("cluster");
        var agents = status.GetProperty("agents").EnumerateArray().ToList();
        Assert.Equal(3, agents.Count(a => a.GetProperty("state").GetString() == "alive"));
        var shares = status.GetProperty("shares").EnumerateArray().ToList();
        Assert.Equal(3, shares.Count);
        Assert.All(shares, s => Assert.True(s.GetProperty("covered").GetInt32() > 0, "every agent took part in the cycle"));
        Assert.Equal(tenant.Mailboxes.Count, shares.Sum(s => s.GetProperty("covered").GetInt32())); // the user without a mailbox is covered, unread
    }

    [SkippableFact]
    public async Task AgentKilledMidCycle_TheOtherTwoFinishIt_SameResultAsOneAgent()
    {
        Backends.Require(Backend.PostgreSql);
        var reference = await ReferenceAsync();
        var tenant = Tenants.Tenant(Mailboxes, messages: 40, seed: Seed);
        Agents? cluster = null;
        var deltaRequests = 0;
        var killing = 0;
        var killed = new TaskCompletionSource<string>();
        SimFault? Intercept(SimOperation op)
        {
            // About 40% into the cycle, an agent that has covered mailboxes already dies without a chance to clean
            // up. Not a fixed one: an agent joins an open cycle at its next poll, and a late one may have none yet.
            if (op.Kind == "delta" && Interlocked.Increment(ref deltaRequests) >= 600 && Interlocked.CompareExchange(ref killing, 1, 0) == 0)
            {
                if (cluster!.KillOneThatCovered() is { } agentId)
                {
                    killed.TrySetResult(agentId);
                }
                else
                {
                    Volatile.Write(ref killing, 0);
                }
            }

            return null;
        }

        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(20), Interceptor = Intercept }, backend: Backend.PostgreSql);
        await using (cluster = new Agents(agent, count: 3))
        {
            await cluster.WaitForCycleAsync();

            Assert.True(killed.Task.IsCompleted, "the cycle ended before the kill point");
            var victim = await killed.Task;
            var result = await Outcome.OfAsync(agent);
            Assert.True(result.DifferencesFrom(reference.Outcome) == 0, result.Describe(reference.Outcome));
            var status = await Status(agent);
            Assert.Equal(1, status.Cycle!.Id);
            Assert.Contains(status.Shares, s => s.Agent == victim);
            Assert.True(status.Shares.Count(s => s.Agent != victim && s.Covered > 0) == 2, "both survivors covered part of the cycle");
            Assert.Equal(tenant.Mailboxes.Count, status.Covered);
        }
    }

    private static async Task<(Outcome Outcome, long MessagesServed)> ReferenceAsync()
    {
        var tenant = Tenants.Tenant(Mailboxes, messages: 40, seed: Seed);
        await using var alone = await AgentHarness.StartAsync(tenant.Tenant, backend: Backend.Sqlite);
        await alone.ScanAndProcessAsync();
        return (await Outcome.OfAsync(alone), alone.Simulator.Counters.MessagesServed);
    }

    /// <summary>The cluster as `status` sees it, read through the test's own agent on the same database.</summary>
    private static async Task<ClusterStatus> Status(AgentHarness agent) =>
        (await agent.Services.GetRequiredService<StatusQueries>().GetAsync(default)).Cluster;

    /// <summary>
    /// The agent processes. Their scan is scheduled for 2099; once every one of them is up, the test makes
    /// the stored trigger due, as a cron fire would. Nothing depends on how fast the processes start.
    /// </summary>
    private sealed class Agents : IAsyncDisposable
    {
        private readonly List<Process> _processes = [];
        private readonly StringBuilder _logs = new();
        private readonly TempFolder _folder = new();
        private readonly string _connectionString;

        /// <param name="leaseSeconds">Short when a test kills an agent (its mailboxes come back sooner); long when none dies, so a
        /// busy machine's stall of a few seconds is not taken for a dead agent (its mailboxes would then be read twice).</param>
        public Agents(AgentHarness agent, int count, int leaseSeconds = 10)
        {
            _connectionString = agent.Settings["Storage:ConnectionString"]!;
            var settings = new Dictionary<string, string?>(agent.Settings);
            foreach (var (key, value) in WorkerHost.OnlyScan("0 0 0 1 1 ? 2099", "UTC"))
            {
                settings[key] = value;
            }

            settings["Cluster:PollSeconds"] = "1";
            settings["Cluster:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Scan:MaxParallelMailboxes"] = "4";
            settings["Graph:PageSize"] = "10";
            Settings = settings;
            for (var i = 0; i < count; i++)
            {
                var process = AgentProcess.Start(settings, _folder.Path, "run");
                var name = $"agent {i} (pid {process.Id})";
                process.OutputDataReceived += (_, e) => Log(name, e.Data);
                process.ErrorDataReceived += (_, e) => Log(name, e.Data);
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                _processes.Add(process);
            }
        }

        public IReadOnlyDictionary<string, string?> Settings { get; }

        public string Folder => _folder.Path;

        /// <summary>
        /// Kills with SIGKILL an agent that has covered mailboxes of the cycle, and returns its agent id; null while
        /// none has (the simulator's request thread waits for the query: a few milliseconds, once per request).
        /// </summary>
        public string? KillOneThatCovered()
        {
            using var c = new NpgsqlConnection(_connectionString);
            var covering = c.Query<string>("SELECT DISTINCT scanned_by FROM mailboxes WHERE scanned_by IS NOT NULL").ToHashSet(StringComparer.Ordinal);
            var victim = _processes.FirstOrDefault(p => !p.HasExited && covering.Contains(IdOf(p)));
            victim?.Kill(entireProcessTree: true);
            return victim is null ? null : IdOf(victim);
        }

        /// <summary>The id an agent process goes by in the database (leases, check-ins, job runs).</summary>
        private static string IdOf(Process process) => new AgentInstance(Environment.MachineName, process.Id).Id;

        /// <summary>
        /// Waits until every agent has checked in and the scan trigger is stored, makes the trigger due, then
        /// waits until the cycle it starts is finished and every finding was turned into incidents.
        /// </summary>
        public async Task WaitForCycleAsync()
        {
            try
            {
                await WorkerHost.EventuallyAsync(async () =>
                {
                    await using var c = new NpgsqlConnection(_connectionString);
                    if (await c.ExecuteScalarAsync<string?>("SELECT to_regclass('agent_instances')::text") is null)
                    {
                        return null;
                    }

                    var ids = _processes.Select(IdOf).ToArray();
                    var up = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM agent_instances WHERE id = ANY(@ids) AND stopped_at IS NULL", new { ids });
                    var fired = await c.ExecuteAsync(
                        "UPDATE qrtz_triggers SET next_fire_time = @now WHERE trigger_name = 'scan-sent-items-trigger' AND trigger_state = 'WAITING' AND @up = @count",
                        new { now = DateTimeOffset.UtcNow.UtcTicks, up, count = (long)_processes.Count });
                    return fired == 1 ? "fired" : null;
                }, seconds: 120);
                await WorkerHost.EventuallyAsync(async () =>
                {
                    await using var c = new NpgsqlConnection(_connectionString);
                    if (await c.ExecuteScalarAsync<string?>("SELECT to_regclass('scan_cycles')::text") is null)
                    {
                        return null; // the agents are still migrating the new database
                    }

                    var finished = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM scan_cycles WHERE finished_at IS NOT NULL");
                    var alive = _processes.Where(p => !p.HasExited).Select(IdOf).ToArray();
                    var running = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_runs WHERE status = 'running' AND instance = ANY(@alive)", new { alive });
                    var unprocessed = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM findings WHERE processed_at IS NULL");
                    return finished > 0 && running == 0 && unprocessed == 0 ? "done" : null;
                }, seconds: 120);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException("the cycle did not finish; agent logs:\n" + Logs());
            }
        }

        /// <summary>Runs of the scheduled scan job, whichever agent ran them (joins are recorded apart).</summary>
        public async Task<long> ScheduledScanRunsAsync()
        {
            await using var c = new NpgsqlConnection(_connectionString);
            return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_runs WHERE job = 'scan-sent-items'");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in _processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync();
                process.Dispose();
            }

            _folder.Dispose();
        }

        private void Log(string name, string? line)
        {
            if (line is not null)
            {
                lock (_logs)
                {
                    _logs.Append(name).Append(": ").AppendLine(line);
                }
            }
        }

        private string Logs()
        {
            lock (_logs)
            {
                return _logs.ToString();
            }
        }
    }
}
