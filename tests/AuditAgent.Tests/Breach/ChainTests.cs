using System.Globalization;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Breach;

/// <summary>
/// Each timeline is a hash chain: an intact database verifies; one row's text changed, one row deleted, two rows
/// swapped, or the newest rows cut off, each directly in the database, is named by `incidents verify`, which then
/// exits non-zero. Entries written before the chain existed are chained by the upgrade step.
/// </summary>
public sealed class ChainTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Verify_NamesTheFirstChangedRemovedOrReorderedEntry(Backend backend)
    {
        var t = new TenantBuilder();
        for (var i = 0; i < 5; i++)
        {
            t.Send(t.User($"user{i}"), $"List {i}", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(30, TenantBuilder.Companies));
        }

        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var ids = (await agent.IncidentsAsync()).Select(i => i.Id).Order().ToList();
        using var folder = new TempFolder();
        var config = await agent.WriteStorageSettingsAsync(folder);
        foreach (var id in ids)
        {
            var n = id.ToString(CultureInfo.InvariantCulture);
            await RunAsync("incidents", "ack", n, "--by", "sam@contoso.com", "--config", config);
            await RunAsync("incidents", "assign", n, "--to", "kim@contoso.com", "--by", "sam@contoso.com", "--config", config);
            await RunAsync("incidents", "step", n, "stop-spread", "done", "--by", "kim@contoso.com", "--config", config);
        }

        var database = agent.Services.GetRequiredService<Database>();
        async Task<List<long>> EntriesAsync(long incident)
        {
            await using var c = await database.OpenAsync(CancellationToken.None);
            return (await c.QueryAsync<long>("SELECT id FROM incident_events WHERE incident_id = @incident ORDER BY id", new { incident })).ToList();
        }

        async Task ExecuteAsync(string sql, object parameters)
        {
            await using var c = await database.OpenAsync(CancellationToken.None);
            await c.ExecuteAsync(sql, parameters);
        }

        var intact = await RunAsync("incidents", "verify", "--all", "--config", config);
        var changed = await EntriesAsync(ids[0]);
        await ExecuteAsync("UPDATE incident_events SET text = @text WHERE id = @id", new { text = "Acknowledged by nobody.", id = changed[1] });
        var removed = await EntriesAsync(ids[1]);
        await ExecuteAsync("DELETE FROM incident_events WHERE id = @id", new { id = removed[2] });
        var swapped = await EntriesAsync(ids[2]);
        // Two rows change places: each takes the other's content, chain columns included.
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            var rows = (await c.QueryAsync<(long Id, string At, string Actor, string Kind, string Text, string Prev, string Hash)>(
                "SELECT id, at, actor, kind, text, prev_hash, hash FROM incident_events WHERE id IN (@a, @b) ORDER BY id", new { a = swapped[1], b = swapped[2] })).ToList();
            foreach (var (row, other) in new[] { (rows[0], rows[1]), (rows[1], rows[0]) })
            {
                await c.ExecuteAsync("UPDATE incident_events SET at = @At, actor = @Actor, kind = @Kind, text = @Text, prev_hash = @Prev, hash = @Hash WHERE id = @Id",
                    new { row.Id, other.At, other.Actor, other.Kind, other.Text, other.Prev, other.Hash });
            }
        }

        var cut = await EntriesAsync(ids[3]);
        await ExecuteAsync("DELETE FROM incident_events WHERE id = @id", new { id = cut[^1] });

        var broken = await RunAsync("incidents", "verify", "--all", "--config", config);
        var one = await RunAsync("incidents", "verify", ids[4].ToString(CultureInfo.InvariantCulture), "--config", config);

        Assert.Equal(0, intact.ExitCode);
        Assert.Contains($"{ids.Count} incidents, ", intact.Output, StringComparison.Ordinal);
        Assert.Contains("all intact.", intact.Output, StringComparison.Ordinal);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains($"Incident {ids[0]}: BROKEN: entry 2 (#{changed[1]}, ", broken.Output, StringComparison.Ordinal);
        Assert.Contains("was changed: its content no longer matches its hash", broken.Output, StringComparison.Ordinal);
        Assert.Contains($"Incident {ids[1]}: BROKEN: entry 3 (#{removed[3]}, ", broken.Output, StringComparison.Ordinal);
        Assert.Contains("follows an entry that was removed or changed", broken.Output, StringComparison.Ordinal);
        Assert.Contains($"Incident {ids[2]}: BROKEN: entry 2 (#{swapped[1]}, ", broken.Output, StringComparison.Ordinal);
        Assert.Contains("is out of order", broken.Output, StringComparison.Ordinal);
        Assert.Contains($"Incident {ids[3]}: BROKEN: the newest entries were removed", broken.Output, StringComparison.Ordinal);
        Assert.Contains("4 broken.", broken.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"Incident {ids[4]}: BROKEN", broken.Output, StringComparison.Ordinal);
        Assert.Equal(0, one.ExitCode);
        Assert.Contains($"Incident {ids[4]}: intact (", one.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntriesWrittenBeforeTheChain_AreChainedByTheUpgradeStep()
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var database = agent.Services.GetRequiredService<Database>();
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("UPDATE incident_events SET prev_hash = NULL, hash = NULL");
            await c.ExecuteAsync("UPDATE incidents SET chain_head = NULL");
        }

        var before = await agent.Store.VerifyAsync([], CancellationToken.None);
        await agent.Services.GetRequiredService<AuditAgent.Hosting.DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        var after = await agent.Store.VerifyAsync([], CancellationToken.None);

        Assert.NotNull(Assert.Single(before).Problem);
        Assert.Null(Assert.Single(after).Problem);
        Assert.True(after[0].Entries > 0);
    }
}
