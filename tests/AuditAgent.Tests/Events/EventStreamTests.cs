using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Incidents;
using AuditAgent.Events;
using AuditAgent.Events.Sinks;
using AuditAgent.Incidents;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Events;

/// <summary>The event stream as a SIEM reads it: in order, each change once, written with the change, never an exposed address.</summary>
public sealed class EventStreamTests
{
    private static async Task<(AgentHarness Agent, long Id, List<string> People)> AgentWithIncidentAsync(Backend backend, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var (tenant, people) = TenantBuilder.OneExposure();
        var agent = await AgentHarness.StartAsync(tenant, settings: settings, backend: backend);
        await agent.ScanAndProcessAsync();
        return (agent, Assert.Single(await agent.IncidentsAsync()).Id, people);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task EveryChange_IsOneEventInOrder_AConsumerPagingByTheLastIdSeesEachOnce(Backend backend)
    {
        var (agent, id, people) = await AgentWithIncidentAsync(backend);
        await using var _ = agent;
        var actions = agent.Services.GetRequiredService<IncidentActions>();
        var by = new Actor("sec@contoso.com");
        await actions.AcknowledgeAsync(id, by, null, CancellationToken.None);
        await actions.AssignAsync(id, "sam@contoso.com", by, null, CancellationToken.None);
        var step = (await agent.IncidentAsync(id)).Steps[0].StepKey;
        await actions.SetStepAsync(id, step, StepStatus.Done, by, "spoke to the sender", CancellationToken.None);
        await actions.ResolveAsync(id, by, "apology sent in Bcc", CancellationToken.None);
        await Assert.ThrowsAnyAsync<Exception>(() => actions.ResolveAsync(id, by, "twice", CancellationToken.None));
        await actions.ReopenAsync(id, by, "the sender did it again", CancellationToken.None);

        var feed = agent.Services.GetRequiredService<EventFeed>();
        var seen = new List<PublishedEvent>();
        long last = 0;
        while (await feed.AfterAsync(last, 2, CancellationToken.None) is { Count: > 0 } page)
        {
            seen.AddRange(page);
            last = page[^1].Id;
        }

        Assert.Equal(["incident.opened", "incident.acknowledged", "incident.assigned", "step.done", "incident.resolved", "incident.reopened"], seen.Select(e => e.Type));
        Assert.Equal(seen.Select(e => e.Id).Order(), seen.Select(e => e.Id));
        Assert.Equal(seen.Count, seen.Select(e => e.Id).Distinct().Count());
        Assert.All(seen, e => Assert.Equal(id, e.IncidentId));
        var opened = seen[0].Data.GetProperty("incident");
        Assert.Equal(1, seen[0].Data.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(30, opened.GetProperty("exposed").GetInt32());
        Assert.Equal(5, opened.GetProperty("domains").GetInt32());
        Assert.Equal("new", opened.GetProperty("status").GetString());
        Assert.Equal("resolved", seen[^2].Data.GetProperty("incident").GetProperty("status").GetString());
        Assert.Equal("sam@contoso.com", seen[^2].Data.GetProperty("incident").GetProperty("assignee").GetString());
        var raw = string.Join('\n', seen.Select(e => e.Data.GetRawText()));
        Assert.All(people, p => Assert.DoesNotContain(p, raw, StringComparison.OrdinalIgnoreCase));
        Assert.All(seen, e => Assert.Null(e.Subject));
    }

    [Fact]
    public async Task EventsList_PrintsJsonAfterAnId_WithSubjectsOnlyWhenConfigured_AndTheConsoleLink()
    {
        var (agent, id, _) = await AgentWithIncidentAsync(Backend.Sqlite);
        await using var _ = agent;
        await agent.Services.GetRequiredService<IncidentActions>().AcknowledgeAsync(id, new Actor("sec@contoso.com"), null, CancellationToken.None);
        using var folder = new TempFolder();
        var config = await folder.WriteSettingsAsync(new { Events = new { IncludeSubjects = true }, Web = new { PublicUrl = "https://auditagent.contoso.test" } });
        var db = agent.Settings["Storage:SqlitePath"]!;

        var plain = await Commands.RunAsync("events", "list", "--db", db, "--format", "json");
        var later = await Commands.RunAsync("events", "list", "--db", db, "--format", "json", "--after", "1", "--config", config);
        var table = await Commands.RunAsync("events", "list", "--db", db);

        Assert.True(plain.ExitCode == 0, plain.Error);
        using var all = JsonDocument.Parse(plain.Output);
        Assert.Equal(2, all.RootElement.GetProperty("events").GetArrayLength());
        Assert.False(all.RootElement.GetProperty("events")[0].TryGetProperty("subject", out var s) && s.ValueKind != JsonValueKind.Null);
        using var after = JsonDocument.Parse(later.Output);
        var only = Assert.Single(after.RootElement.GetProperty("events").EnumerateArray());
        Assert.Equal("incident.acknowledged", only.GetProperty("type").GetString());
        Assert.Equal("Spring newsletter", only.GetProperty("subject").GetString());
        Assert.Equal($"https://auditagent.contoso.test/incidents/{id.ToString(CultureInfo.InvariantCulture)}", only.GetProperty("link").GetString());
        Assert.Equal(2, after.RootElement.GetProperty("last").GetInt64());
        Assert.Contains("incident.opened", table.Output, StringComparison.Ordinal);
        Assert.Contains("Next: --after 2", table.Output, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task TheClockAndOverdueSteps_AreAnnouncedOnceEach_AtTheirTime(Backend backend)
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, backend: backend, time: clock);
        await agent.ScanAndProcessAsync();
        var incident = await agent.IncidentAsync(Assert.Single(await agent.IncidentsAsync()).Id);
        var events = agent.Services.GetRequiredService<AuditAgent.Storage.EventStore>();
        var feed = agent.Services.GetRequiredService<EventFeed>();
        async Task<List<PublishedEvent>> TimedAsync() =>
            [.. (await feed.AfterAsync(0, 1000, CancellationToken.None)).Where(e => e.Type is "notification.deadline_near" or "step.overdue")];

        clock.SetUtcNow(incident.Incident.DetectedAt.AddHours(49));
        var at49 = await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None);
        var again = await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None);
        var after49 = await TimedAsync();
        clock.SetUtcNow(incident.Incident.DetectedAt.AddHours(67));
        await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None);
        var after67 = await TimedAsync();
        await agent.Services.GetRequiredService<IncidentActions>().ResolveAsync(incident.Incident.Id, new Actor("sec@contoso.com"), null, CancellationToken.None);
        clock.SetUtcNow(incident.Incident.DetectedAt.AddDays(30));
        var afterResolved = await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None);

        var overdueAt49 = incident.Steps.Count(s => s.DueAt < incident.Incident.DetectedAt.AddHours(49));
        var overdueAt67 = incident.Steps.Count(s => s.DueAt < incident.Incident.DetectedAt.AddHours(67));
        Assert.Equal(1 + overdueAt49, at49);
        Assert.Equal(0, again);
        Assert.Equal(at49, after49.Count);
        Assert.Equal(24, after49.Single(e => e.Type == "notification.deadline_near").Data.GetProperty("details").GetProperty("hoursLeftAtMost").GetInt32());
        Assert.Equal([24, 6], after67.Where(e => e.Type == "notification.deadline_near").Select(e => e.Data.GetProperty("details").GetProperty("hoursLeftAtMost").GetInt32()));
        Assert.Equal(overdueAt67, after67.Count(e => e.Type == "step.overdue"));
        Assert.Equal(incident.Steps.Where(s => s.DueAt < incident.Incident.DetectedAt.AddHours(67)).Select(s => s.StepKey).Order(StringComparer.Ordinal),
            after67.Where(e => e.Type == "step.overdue").Select(e => e.Data.GetProperty("details").GetProperty("step").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(0, afterResolved);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task AMailboxFailingForADay_AndAnAgentThatStoppedCheckingIn_AreAnnouncedOnceEach(Backend backend)
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var (tenant, _) = TenantBuilder.OneExposure();
        var locked = new AuditAgent.Simulator.SimUser("locked-id") { DisplayName = "Locked", Mail = "locked@contoso.com", UserPrincipalName = "locked@contoso.com", OutsideAppScope = true };
        tenant.AddUser(locked);
        await using var agent = await AgentHarness.StartAsync(tenant, backend: backend, time: clock);
        var events = agent.Services.GetRequiredService<AuditAgent.Storage.EventStore>();
        var feed = agent.Services.GetRequiredService<EventFeed>();
        var lostAfter = TimeSpan.FromMinutes(2);
        await agent.ScanAndProcessAsync();
        await agent.Services.GetRequiredService<AuditAgent.Storage.ClusterStore>().CheckInAsync(clock.GetUtcNow(), CancellationToken.None);

        var early = await events.AnnounceHealthAsync(clock.GetUtcNow().AddHours(1), lostAfter, CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(25));
        await agent.ScanAndProcessAsync();
        var day = await events.AnnounceHealthAsync(clock.GetUtcNow(), lostAfter, CancellationToken.None);
        var again = await events.AnnounceHealthAsync(clock.GetUtcNow(), lostAfter, CancellationToken.None);
        var announced = (await feed.AfterAsync(0, 1000, CancellationToken.None)).Where(e => e.Type is "mailbox.failing" or "agent.lost").ToList();

        var failing = announced.Single(e => e.Type == "mailbox.failing");
        Assert.Equal("locked@contoso.com", failing.Detail("mailbox"));
        Assert.Null(failing.IncidentId);
        Assert.Equal(backend == Backend.PostgreSql ? 1 : 0, announced.Count(e => e.Type == "agent.lost")); // a cluster's agents; SQLite has one
        Assert.Equal((backend == Backend.PostgreSql ? 1 : 0, 1, 0), (early, day, again)); // the mailbox only after a day; each once
    }

    [Fact]
    public void Docs_ListAndShowAnExampleOfEveryEventType()
    {
        var docs = File.ReadAllText(RepoFiles.Path("docs/events.md"));

        Assert.All(AuditAgent.Core.Events.EventTypes.All, type =>
        {
            Assert.Contains($"### `{type}`", docs, StringComparison.Ordinal);
            Assert.Contains($"\"type\": \"{type}\"", docs, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AFailedScan_IsAnEvent()
    {
        var (agent, _, _) = await AgentWithIncidentAsync(Backend.Sqlite);
        await using var _ = agent;
        var store = agent.Services.GetRequiredService<AuditAgent.Storage.ScanStore>();
        var run = await store.StartRunAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        await store.FailRunAsync(run, "incident processing failed: the database is full", CancellationToken.None);

        var failed = (await agent.Services.GetRequiredService<EventFeed>().AfterAsync(0, 100, CancellationToken.None)).Single(e => e.Type == "scan.failed");
        Assert.Null(failed.IncidentId);
        Assert.Equal("incident processing failed: the database is full", failed.Data.GetProperty("details").GetProperty("error").GetString());
    }
}
