using System.Globalization;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Breach;

/// <summary>The people behind the exposures across incidents, on both databases: distinct counts, an access request, an erasure that never touches an open incident.</summary>
public sealed class SubjectTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task APersonInTwoIncidents_IsOneDataSubject_FoundInBoth_AndErasedOnlyFromTheClosedOne(Backend backend)
    {
        var t = new TenantBuilder();
        var shared = People(10, Companies);
        var first = shared.Concat(People(20, Companies)).ToList();
        var second = shared.Concat(People(25, Companies)).ToList();
        t.Send(t.User("ann"), "Spring newsletter", Now.AddDays(-3), first);
        t.Send(t.User("bob"), "Trade fair invitation", Now.AddDays(-2), second);
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!, i => i.Id);
        using var folder = new TempFolder();
        var config = await agent.WriteStorageSettingsAsync(folder);
        var closed = incidents["Spring newsletter"].ToString(CultureInfo.InvariantCulture);
        await RunAsync("incidents", "resolve", closed, "--by", "sam@contoso.com", "--note", "handled", "--config", config);

        var counts = await agent.Store.SubjectCountsAsync(Now.AddDays(-30), CancellationToken.None);
        var elsewhere = await agent.Store.ExposedElsewhereAsync(incidents["Trade fair invitation"], CancellationToken.None);
        var found = await RunAsync("subjects", "find", shared[0].ToUpperInvariant(), "--reason", "access request SAR-17", "--by", "dpo@contoso.com", "--config", config);
        var erase = await RunAsync("subjects", "erase", shared[0], "--reason", "erasure request SAR-18", "--by", "dpo@contoso.com", "--config", config);
        var after = await RunAsync("subjects", "find", shared[0], "--reason", "check after SAR-18", "--by", "dpo@contoso.com", "--config", config);
        var closedPeople = await agent.Services.GetRequiredService<AuditAgent.Storage.IncidentQueries>().ExposedRecipientsAsync(incidents["Spring newsletter"], CancellationToken.None);
        var openPeople = await agent.Services.GetRequiredService<AuditAgent.Storage.IncidentQueries>().ExposedRecipientsAsync(incidents["Trade fair invitation"], CancellationToken.None);
        var countsAfter = await agent.Store.SubjectCountsAsync(Now.AddDays(-30), CancellationToken.None);
        var nobody = await RunAsync("subjects", "find", "nobody@fabrikam.com", "--reason", "SAR-19", "--by", "dpo@contoso.com", "--config", config);

        Assert.Equal((55, 55, 10), (counts.Total, counts.ThisQuarter, counts.MoreThanOnce));
        Assert.Equal(10, elsewhere);
        Assert.Equal(0, found.ExitCode);
        Assert.Contains("Exposed in 2 incidents.", found.Output, StringComparison.Ordinal);
        Assert.Contains($"Erased from 1 closed incident: {closed}.", erase.Output, StringComparison.Ordinal);
        Assert.Contains($"Left in 1 open incident ({incidents["Trade fair invitation"]})", erase.Output, StringComparison.Ordinal);
        Assert.Contains("erased", after.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(closedPeople, p => p.Address == shared[0]);
        Assert.Equal(29, closedPeople.Count);
        Assert.Contains(openPeople, p => p.Address == shared[0]); // an open incident is never touched
        Assert.Equal(counts, countsAfter); // the keyed hash stays: the counts do not change
        Assert.Contains("not exposed in any incident", nobody.Output, StringComparison.Ordinal);
        var timeline = (await agent.IncidentAsync(incidents["Spring newsletter"])).Timeline;
        Assert.Contains(timeline, e => e.Kind == "subject" && e.Text.Contains("erasure request SAR-18", StringComparison.Ordinal) && e.Actor == "dpo@contoso.com");
        Assert.DoesNotContain(shared[0], string.Join("\n", timeline.Select(e => e.Text)), StringComparison.OrdinalIgnoreCase);
        await using var c = await agent.Services.GetRequiredService<AuditAgent.Storage.Database>().OpenAsync(CancellationToken.None);
        var requests = (await Dapper.SqlMapper.QueryAsync<(string Kind, string By, string Reason, string Key, long Incidents)>(c,
            "SELECT kind, requested_by, reason, subject_key, incidents FROM subject_requests ORDER BY id")).ToList();
        Assert.Equal([("find", "dpo@contoso.com", "access request SAR-17", 2L), ("erase", "dpo@contoso.com", "erasure request SAR-18", 1L), ("find", "dpo@contoso.com", "check after SAR-18", 2L), ("find", "dpo@contoso.com", "SAR-19", 0L)],
            requests.Select(r => (r.Kind, r.By, r.Reason, r.Incidents)));
        Assert.All(requests, r => Assert.DoesNotContain(shared[0].Split('@')[0], r.Key, StringComparison.OrdinalIgnoreCase)); // the person only by keyed hash (and domain)
        Assert.Single(requests.Take(3).Select(r => r.Key).Distinct()); // the same person each time
    }
}
