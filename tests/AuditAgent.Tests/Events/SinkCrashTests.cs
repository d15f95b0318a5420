using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AuditAgent.Core.Events;
using AuditAgent.Events;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AuditAgent.Tests.Support.Tenants;

namespace AuditAgent.Tests.Events;

/// <summary>
/// `auditagent events push`, the real executable, killed with SIGKILL while it delivers to every kind of
/// sink at once (a webhook, syslog into a real rsyslog, Sentinel, ServiceNow and Teams), then run again
/// until it finishes. Every event reaches every sink (each receiver sees each event id at least once, so a
/// consumer deduplicating by id has each exactly once), and ServiceNow never gets a second record for
/// one incident.
/// </summary>
public sealed partial class SinkCrashTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task KilledWhileDelivering_EveryEventReachesEverySink_AndNoIncidentIsOpenedTwiceInServiceNow(Backend backend)
    {
        Backends.Require(backend);
        Skip.IfNot(Rsyslog.Installed, "rsyslog is not installed here (.ci/run installs it)");
        var figures = new Figures($"sink crash suite {backend}");
        figures.Run();
        var random = new Random(4242);
        var tenant = Tenant(mailboxes: 40, messages: 40, seed: 4242);
        await using var agent = await AgentHarness.StartAsync(tenant.Tenant, backend: backend);
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var rsyslog = await Rsyslog.StartAsync(tls: false);
        using var folder = new TempFolder();
        var password = Path.Combine(folder.Path, "servicenow-password");
        await File.WriteAllTextAsync(password, SinkReceivers.ServiceNowPassword);
        var receivers = agent.Simulator.Receivers;
        var settings = new Dictionary<string, string?>(agent.Settings)
        {
            ["Events:QuickRetries"] = "0",
            ["Events:Sinks:Webhooks:0:Name"] = "webhook",
            ["Events:Sinks:Webhooks:0:Url"] = webhook.Url,
            ["Events:Sinks:Webhooks:0:Secrets:0"] = "whsec_" + Convert.ToBase64String(new byte[32]),
            ["Events:Sinks:Syslog:0:Name"] = "syslog",
            ["Events:Sinks:Syslog:0:Host"] = "127.0.0.1",
            ["Events:Sinks:Syslog:0:Port"] = rsyslog.Port.ToString(CultureInfo.InvariantCulture),
            ["Events:Sinks:Syslog:0:Transport"] = "Tcp",
            ["Events:Sinks:Sentinel:0:Name"] = "sentinel",
            ["Events:Sinks:Sentinel:0:Endpoint"] = agent.Simulator.Origin,
            ["Events:Sinks:Sentinel:0:RuleId"] = SinkReceivers.LogsRuleId,
            ["Events:Sinks:Sentinel:0:AccessToken"] = receivers.MonitorToken,
            ["Events:Sinks:ServiceNow:0:Name"] = "servicenow",
            ["Events:Sinks:ServiceNow:0:Instance"] = agent.Simulator.Origin,
            ["Events:Sinks:ServiceNow:0:Username"] = SinkReceivers.ServiceNowUser,
            ["Events:Sinks:ServiceNow:0:PasswordFile"] = password,
            ["Events:Sinks:Teams:0:Name"] = "teams",
            ["Events:Sinks:Teams:0:Url"] = agent.Simulator.Origin + "/workflows/security/triggers/manual/paths/invoke",
            ["Events:Sinks:Teams:0:MinSeverity"] = "low",
        };

        Process? child = null;
        var requests = 0L;
        var killAt = long.MaxValue;
        void Count()
        {
            if (Interlocked.Increment(ref requests) == Volatile.Read(ref killAt) && child is { HasExited: false } victim)
            {
                victim.Kill(entireProcessTree: true); // the receiver took it; the agent dies before it hears back
                figures.Kill();
            }
        }

        webhook.OnRequest = Count;
        receivers.OnRequest = Count;
        string? lastError = null;
        async Task<int> PushAsync()
        {
            child = AgentProcess.Start(settings, folder.Path, "events", "push");
            var drain = Task.WhenAll(child.StandardOutput.ReadToEndAsync(), child.StandardError.ReadToEndAsync());
            await child.WaitForExitAsync();
            lastError = (await drain)[1];
            return child.ExitCode;
        }

        // The sinks start before the first scan (a new sink starts after the newest event), then the events come:
        // the scan's, and a day of triage on every incident.
        await agent.Services.GetRequiredService<AuditAgent.Hosting.DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        Assert.True(await PushAsync() == 0, lastError);
        await agent.ScanAndProcessAsync();
        var actions = agent.Services.GetRequiredService<AuditAgent.Incidents.IncidentActions>();
        var sec = new AuditAgent.Core.Incidents.Actor("sec@contoso.com");
        foreach (var incident in await agent.IncidentsAsync())
        {
            await actions.AcknowledgeAsync(incident.Id, sec, null, CancellationToken.None);
            await actions.AssignAsync(incident.Id, "sam@contoso.com", sec, null, CancellationToken.None);
            await actions.ResolveAsync(incident.Id, sec, "done", CancellationToken.None);
            await actions.ReopenAsync(incident.Id, sec, "not done after all", CancellationToken.None);
            await actions.ResolveAsync(incident.Id, sec, "done now", CancellationToken.None);
        }

        for (var kill = 0; kill < 4; kill++)
        {
            Volatile.Write(ref killAt, Volatile.Read(ref requests) + random.Next(1, 40));
            await PushAsync();
        }

        Volatile.Write(ref killAt, long.MaxValue);
        for (var attempt = 0; attempt < 5 && await PushAsync() != 0; attempt++)
        {
        }

        var events = new List<PublishedEvent>();
        for (IReadOnlyList<PublishedEvent> page; (page = await agent.Services.GetRequiredService<EventFeed>().AfterAsync(events.Count == 0 ? 0 : events[^1].Id, 1000, CancellationToken.None)).Count > 0;)
        {
            events.AddRange(page);
        }

        var ids = events.Select(e => e.Id).ToHashSet();
        var incidents = events.Where(e => e.IncidentId is not null).Select(e => e.IncidentId!.Value).ToHashSet();
        var webhookIds = webhook.Requests.Select(r => long.Parse(r.Id["evt_".Length..], CultureInfo.InvariantCulture)).ToHashSet();
        var syslogIds = (await rsyslog.ReceivedAsync(ids.Count)).Select(l => long.Parse(ExternalId().Match(l[4]).Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();
        var sentinelIds = receivers.LogRows.Select(r => (long)r["EventId"]!).ToHashSet();
        var records = receivers.ServiceNow.Values.ToList();
        var opened = receivers.TeamsMessages.Select(m => (string?)m.Message["attachments"]![0]!["content"]!["body"]![0]!["text"]).Where(t => t!.EndsWith(" opened", StringComparison.Ordinal)).ToHashSet();
        var states = await agent.Services.GetRequiredService<StatusQueries>().SinksAsync(CancellationToken.None);

        var missing = ids.Except(webhookIds).Count() + ids.Except(syslogIds).Count() + ids.Except(sentinelIds).Count()
            + (incidents.Count - records.Select(r => r.Field("correlation_id")).Distinct().Count()) + (records.Count - incidents.Count)
            + (events.Count(e => e.Type == EventTypes.IncidentOpened) - opened.Count);
        figures.Difference(missing);
        output.WriteLine(figures.Report());
        output.WriteLine($"{ids.Count} events about {incidents.Count} incidents; webhook requests {webhook.Requests.Count}, syslog lines {syslogIds.Count}, Sentinel rows {receivers.LogRows.Count}, ServiceNow records {records.Count}");

        Assert.True(ids.Count > 60, $"{ids.Count} events");
        Assert.Subset(webhookIds, ids);
        Assert.Subset(syslogIds, ids);
        Assert.Subset(sentinelIds, ids);
        Assert.Equal(incidents.Count, records.Count); // one record per incident, however often it was retried
        Assert.Equal(incidents.Select(i => $"auditagent-{i}").Order(StringComparer.Ordinal), records.Select(r => r.Field("correlation_id")).Order(StringComparer.Ordinal));
        Assert.Equal(events.Count(e => e.Type == EventTypes.IncidentOpened), opened.Count);
        Assert.All(states, s => Assert.Equal((events[^1].Id, 0, 0), (s.LastEventId, s.Attempts, s.DeadLetters)));
        Assert.Equal(0, figures.Differences);
    }

    [GeneratedRegex(@"externalId=(\d+)")]
    private static partial Regex ExternalId();
}
