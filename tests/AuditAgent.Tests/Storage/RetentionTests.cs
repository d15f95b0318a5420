using AuditAgent.Core.Incidents;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Storage;

/// <summary>The purge job deletes exposed addresses past retention and keeps the counts.</summary>
public class RetentionTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Purge_DeletesRecipientsOfIncidentsClosedLongAgo_KeepsCountsAndOpenIncidents(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var closedList = People(20, Companies);
        var openList = People(15, Companies);
        t.Send(ann, "Closed long ago", Now.AddDays(-3), closedList);
        t.Send(ann, "Still open", Now.AddDays(-2), openList);
        t.Send(ann, "Newsletter", Now.AddDays(-1), [ann.Mail!], bcc: People(25, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!);
        var closedAt = DateTimeOffset.UtcNow.AddDays(-200);
        await agent.Store.ChangeStatusAsync(incidents["Closed long ago"].Id, IncidentAction.Resolve, new AuditAgent.Core.Incidents.Actor("sam"), null, null, closedAt, CancellationToken.None);
        var store = agent.Services.GetRequiredService<OperationsStore>();
        var now = DateTimeOffset.UtcNow;

        var events = agent.Services.GetRequiredService<EventStore>();
        await events.AppendAsync(AuditAgent.Core.Events.EventTypes.ScanFailed, new { error = "long ago" }, now.AddDays(-181), null, CancellationToken.None);
        await events.AppendAsync(AuditAgent.Core.Events.EventTypes.ScanFailed, new { error = "recent" }, now.AddDays(-1), null, CancellationToken.None);
        var before = await events.ListAsync(0, 1000, false, CancellationToken.None);

        var result = await store.PurgeAsync(now.AddDays(-180), now.AddDays(1), now.AddDays(-90), now.AddDays(-90), CancellationToken.None);

        Assert.Equal(20, result.IncidentRecipients);
        var after = await events.ListAsync(0, 1000, false, CancellationToken.None);
        var closedId = incidents["Closed long ago"].Id;
        Assert.Equal(before.Count(e => e.IncidentId == closedId) + 1, result.Events); // the closed incident's events and the old scan.failed
        Assert.DoesNotContain(after, e => e.IncidentId == closedId);
        Assert.Contains(after, e => e.IncidentId == incidents["Still open"].Id);
        Assert.Single(after, e => e.IncidentId is null);
        Assert.Equal(1, result.BccRecipients);
        var queries = agent.Services.GetRequiredService<IncidentQueries>();
        Assert.Empty(await queries.ExposedRecipientsAsync(incidents["Closed long ago"].Id, CancellationToken.None));
        Assert.Equal(15, (await queries.ExposedRecipientsAsync(incidents["Still open"].Id, CancellationToken.None)).Count);
        var closed = (await agent.IncidentAsync(incidents["Closed long ago"].Id)).Incident;
        Assert.Equal((20, 5), (closed.ExposedCount, closed.DomainCount));
        var finding = (await agent.FindingsAsync()).Single(f => f.Subject == "Closed long ago");
        Assert.Equal(20, finding.VisibleExternalCount);
        await using var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None);
        Assert.Equal("", await c.ExecuteScalarAsync<string>("SELECT recipients FROM bcc_messages"));
        Assert.Equal(new PurgeResult(0, 0, 0, 0, 0), await store.PurgeAsync(now.AddDays(-180), now.AddDays(1), now.AddDays(-90), now.AddDays(-90), CancellationToken.None));
    }
}
