using System.Globalization;
using System.Text.Json.Nodes;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;
using AuditAgent.Events;
using AuditAgent.Events.Sinks;
using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Events;

/// <summary>The event stream in a SIEM over syslog/CEF, in Sentinel, in Teams and in ServiceNow: real receivers, never an exposed address.</summary>
public sealed class SinkTests
{
    private const string Origin = AgentHarness.SimulatorOrigin;

    /// <summary>An agent with these sinks, started before the first scan (a new sink starts after the newest event), then one medium incident.</summary>
    private static async Task<(AgentHarness Agent, long Id, List<string> People)> AgentAsync(Dictionary<string, string?> settings, Backend backend = Backend.Sqlite)
    {
        var (tenant, people) = TenantBuilder.OneExposure();
        settings["Web:PublicUrl"] = "https://auditagent.contoso.test";
        var agent = await AgentHarness.StartAsync(tenant, settings: settings, backend: backend);
        await agent.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        await agent.ScanAndProcessAsync();
        return (agent, Assert.Single(await agent.IncidentsAsync()).Id, people);
    }

    private static EventPusher Pusher(AgentHarness agent) => agent.Services.GetRequiredService<EventPusher>();

    private static IncidentActions Actions(AgentHarness agent) => agent.Services.GetRequiredService<IncidentActions>();

    private static Actor Sec => new("sec@contoso.com");

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Syslog_ARealRsyslogReceivesEachEventAsCef_OverTcpAndOverTls(bool tls)
    {
        Skip.IfNot(Rsyslog.Installed, "rsyslog is not installed here (.ci/run installs it)");
        await using var rsyslog = await Rsyslog.StartAsync(tls);
        var settings = new Dictionary<string, string?>
        {
            ["Events:Sinks:Syslog:0:Name"] = "qradar",
            ["Events:Sinks:Syslog:0:Host"] = tls ? "localhost" : "127.0.0.1",
            ["Events:Sinks:Syslog:0:Port"] = rsyslog.Port.ToString(CultureInfo.InvariantCulture),
            ["Events:Sinks:Syslog:0:Transport"] = tls ? "Tls" : "Tcp",
            ["Events:Sinks:Syslog:0:CaFile"] = rsyslog.CaFile,
            ["Events:Sinks:Syslog:0:Facility"] = "13",
        };
        var (agent, id, people) = await AgentAsync(settings);
        await using var _ = agent;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        await Actions(agent).AcknowledgeAsync(id, Sec, null, CancellationToken.None);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        var lines = await rsyslog.ReceivedAsync(2);
        Assert.Equal(2, lines.Count);
        var (opened, acknowledged) = (lines[0], lines[1]);
        Assert.Equal(["13", "4", "auditagent", EventTypes.IncidentOpened], opened[..4]); // log audit, warning (medium)
        Assert.Equal(EventTypes.IncidentAcknowledged, acknowledged[3]);
        var cef = opened[4].Trim();
        Assert.StartsWith($"CEF:0|AuditAgent|AuditAgent|", cef, StringComparison.Ordinal);
        var header = cef.Split('|');
        Assert.Equal((EventTypes.IncidentOpened, $"Privacy incident #{id} opened", "5"), (header[4], header[5], header[6]));
        var ext = Extensions(header[7]);
        Assert.Equal(id.ToString(CultureInfo.InvariantCulture), ext["cn1"]);
        Assert.Equal(("incidentId", "30", "exposedPeople", "5", "organisations"), (ext["cn1Label"], ext["cn2"], ext["cn2Label"], ext["cs1"], ext["cs1Label"]));
        Assert.Equal(("ann@contoso.com", $"https://auditagent.contoso.test/incidents/{id}"), (ext["suser"], ext["request"]));
        Assert.Equal("acknowledged", Extensions(acknowledged[4].Trim().Split('|')[7])["cs2"]);
        Assert.All(people, p => Assert.DoesNotContain(p, string.Join('\n', lines.Select(l => l[4])), StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2, Assert.Single(await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None)).Delivered);
    }

    [SkippableFact]
    public async Task Syslog_OverTls_ARecieverTheAgentDoesNotTrust_GetsNothing_AndTheFailureIsRecorded()
    {
        Skip.IfNot(Rsyslog.Installed, "rsyslog is not installed here (.ci/run installs it)");
        await using var rsyslog = await Rsyslog.StartAsync(tls: true);
        var (agent, _, _) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:Syslog:0:Name"] = "qradar",
            ["Events:Sinks:Syslog:0:Host"] = "localhost",
            ["Events:Sinks:Syslog:0:Port"] = rsyslog.Port.ToString(CultureInfo.InvariantCulture),
            ["Events:QuickRetries"] = "0",
        });
        await using var _ = agent;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        var state = Assert.Single(await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None));
        Assert.Equal((0L, 1), (state.Delivered, state.Attempts));
        Assert.Contains("certificate", state.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(rsyslog.Output) && (await File.ReadAllTextAsync(rsyslog.Output)).Length > 0);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task ServiceNow_OneRecordPerIncident_FollowedByWorkNotes_AndResolvedWithIt(Backend backend)
    {
        using var folder = new TempFolder();
        var password = Path.Combine(folder.Path, "servicenow-password");
        await File.WriteAllTextAsync(password, SinkReceivers.ServiceNowPassword + "\n");
        var (agent, id, people) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:ServiceNow:0:Name"] = "servicenow",
            ["Events:Sinks:ServiceNow:0:Instance"] = Origin,
            ["Events:Sinks:ServiceNow:0:Username"] = SinkReceivers.ServiceNowUser,
            ["Events:Sinks:ServiceNow:0:PasswordFile"] = password,
            ["Events:Sinks:ServiceNow:0:AssignmentGroup"] = "Privacy",
        }, backend);
        await using var _ = agent;
        var servicenow = agent.Simulator.Receivers.ServiceNow;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        var record = Assert.Single(servicenow.Values);
        Assert.Equal($"auditagent-{id}", record.Field("correlation_id"));
        Assert.Equal(("2", "2", "Privacy", "1"), (record.Field("impact"), record.Field("urgency"), record.Field("assignment_group"), record.Field("state")));
        Assert.Equal($"AuditAgent #{id}: mail exposed 30 people in 5 organisations (0 private mailboxes) (medium)", record.Field("short_description"));
        var reasons = System.Text.Json.JsonSerializer.Deserialize<string[]>((await agent.IncidentAsync(id)).Incident.Reasons)!;
        Assert.Contains("Why: " + string.Join("; ", reasons), record.Field("description"), StringComparison.Ordinal);
        Assert.Contains("Next step: ", record.Field("description"), StringComparison.Ordinal);

        await Actions(agent).AcknowledgeAsync(id, Sec, null, CancellationToken.None);
        await Actions(agent).ResolveAsync(id, Sec, "Recipients told; sender trained.", CancellationToken.None);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        Assert.Single(servicenow.Values);
        Assert.Equal(("6", "Solution provided"), (record.Field("state"), record.Field("close_code")));
        var notes = record.WorkNotes.ToList();
        Assert.Equal(2, notes.Count);
        Assert.Contains($"Incident #{id} acknowledged", notes[0], StringComparison.Ordinal);
        Assert.Contains($"Incident #{id} resolved", notes[1], StringComparison.Ordinal);
        var everything = string.Join('\n', servicenow.Values.Select(r => r.ToJson().ToJsonString()).Concat(notes));
        Assert.All(people, p => Assert.DoesNotContain(p, everything, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ServiceNow_AnEventSentAgain_AfterACrashBeforeTheCheckpoint_FindsTheRecordInsteadOfOpeningASecond()
    {
        using var folder = new TempFolder();
        var secret = Path.Combine(folder.Path, "servicenow-secret");
        await File.WriteAllTextAsync(secret, SinkReceivers.ServiceNowClientSecret);
        var (agent, id, _) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:ServiceNow:0:Name"] = "servicenow",
            ["Events:Sinks:ServiceNow:0:Instance"] = Origin,
            ["Events:Sinks:ServiceNow:0:ClientId"] = SinkReceivers.ServiceNowClientId,
            ["Events:Sinks:ServiceNow:0:ClientSecretFile"] = secret,
        });
        await using var _ = agent;
        var sink = agent.Services.GetRequiredService<SinkCatalog>().Find("servicenow")!;
        var opened = (await agent.Services.GetRequiredService<EventFeed>().AfterAsync(0, 10, CancellationToken.None)).Single(e => e.Type == EventTypes.IncidentOpened);

        var first = await sink.SendAsync([opened], CancellationToken.None);
        var again = await sink.SendAsync([opened], CancellationToken.None); // as the pusher does when it died before moving the checkpoint

        Assert.True(first.Ok && again.Ok, first.Error ?? again.Error);
        Assert.Single(agent.Simulator.Receivers.ServiceNow.Values);
        Assert.Equal(2, agent.Simulator.Receivers.ServiceNowRequests.Count(r => r.StartsWith("GET ", StringComparison.Ordinal)));
        Assert.Equal(1, agent.Simulator.Receivers.ServiceNowRequests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal)));
        Assert.Equal($"auditagent-{id}", Assert.Single(agent.Simulator.Receivers.ServiceNow.Values).Field("correlation_id"));
    }

    [Fact]
    public async Task Sentinel_EventsBecomeRowsOfTheCustomTable_WithATokenForMonitor_AndA429IsRetriedAfterItsRetryAfter()
    {
        var (agent, id, people) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:Sentinel:0:Name"] = "sentinel",
            ["Events:Sinks:Sentinel:0:Endpoint"] = Origin,
            ["Events:Sinks:Sentinel:0:RuleId"] = SinkReceivers.LogsRuleId,
            ["Events:Sinks:Sentinel:0:Stream"] = SinkReceivers.LogsStream,
            ["Events:Sinks:Sentinel:0:AccessToken"] = "set below",
        });
        await using var _ = agent;
        agent.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventsOptions>>().Value.Sinks.Sentinel[0].AccessToken = agent.Simulator.Receivers.MonitorToken;
        agent.Simulator.Receivers.Faults.Enqueue(429);

        var sent = await Pusher(agent).PushOnceAsync(CancellationToken.None);

        var rows = agent.Simulator.Receivers.LogRows.ToList();
        Assert.Equal(sent, rows.Count);
        var opened = rows.Single(r => (string?)r["EventType"] == EventTypes.IncidentOpened);
        Assert.Equal((id, "medium", 30, 5), ((long)opened["IncidentId"]!, (string?)opened["Severity"], (int)opened["Exposed"]!, (int)opened["Domains"]!));
        Assert.Equal($"https://auditagent.contoso.test/incidents/{id}", (string?)opened["Link"]);
        Assert.True(DateTimeOffset.TryParse((string?)opened["TimeGenerated"], CultureInfo.InvariantCulture, out var generated) && generated.Offset == TimeSpan.Zero);
        Assert.Empty(agent.Simulator.Receivers.Faults); // the 429 was answered, then the same rows went again
        var all = string.Join('\n', rows.Select(r => r.ToJsonString()));
        Assert.All(people, p => Assert.DoesNotContain(p, all, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Sentinel_AWrongTokenIsRefused_AndTheEventsWaitForTheNextAttempt()
    {
        var (agent, _, _) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:Sentinel:0:Name"] = "sentinel",
            ["Events:Sinks:Sentinel:0:Endpoint"] = Origin,
            ["Events:Sinks:Sentinel:0:RuleId"] = SinkReceivers.LogsRuleId,
            ["Events:Sinks:Sentinel:0:AccessToken"] = "a token for another audience",
        });
        await using var __ = agent;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        Assert.Empty(agent.Simulator.Receivers.LogRows);
        var state = Assert.Single(await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None));
        Assert.Equal(("HTTP 401", 1, 0L), (state.LastError, state.Attempts, state.LastEventId));
    }

    [Fact]
    public async Task Teams_TheWorkflowTakesAnAdaptiveCardPerNewIncident_NotForRoutineChanges_AndByDefaultOnlyHighOnes()
    {
        var (agent, id, people) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:Teams:0:Name"] = "security-channel",
            ["Events:Sinks:Teams:0:Url"] = Origin + "/workflows/security/triggers/manual/paths/invoke",
            ["Events:Sinks:Teams:0:MinSeverity"] = "medium",
            ["Events:Sinks:Teams:1:Name"] = "high-and-critical",
            ["Events:Sinks:Teams:1:Url"] = Origin + "/workflows/high/triggers/manual/paths/invoke",
        });
        await using var _ = agent;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        await Actions(agent).AcknowledgeAsync(id, Sec, null, CancellationToken.None);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        var (workflow, message) = Assert.Single(agent.Simulator.Receivers.TeamsMessages);
        var content = message["attachments"]![0]!["content"]!;
        Assert.Equal(("security", "1.4"), (workflow, (string?)content["version"]));
        Assert.Equal($"Privacy incident #{id} opened", (string?)content["body"]![0]!["text"]);
        var facts = content["body"]![1]!["facts"]!.AsArray().ToDictionary(f => (string)f!["title"]!, f => (string?)f!["value"]);
        Assert.Equal(("medium", "30 people in 5 organisations (0 private mailboxes)"), (facts["Severity"], facts["Exposed"]));
        Assert.False(facts.ContainsKey("Subject"));
        var incident = await agent.IncidentAsync(id);
        var next = incident.Steps.OrderBy(s => s.Position).First();
        Assert.StartsWith($"{next.Title} ({next.Owner}, due ", facts["Next step"], StringComparison.Ordinal);
        var reasons = System.Text.Json.JsonSerializer.Deserialize<string[]>(incident.Incident.Reasons)!;
        Assert.Equal("Why: " + string.Join("; ", reasons), (string?)content["body"]![2]!["text"]);
        Assert.Equal($"https://auditagent.contoso.test/incidents/{id}", (string?)content["actions"]![0]!["url"]);
        Assert.All(people, p => Assert.DoesNotContain(p, message.ToJsonString(), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Filters_ASinkForHighIncidentsOnly_SkipsAMediumOne_AndStillMovesOn_WhileAnotherGetsIt()
    {
        var (agent, id, _) = await AgentAsync(new Dictionary<string, string?>
        {
            ["Events:Sinks:Teams:0:Name"] = "high-only",
            ["Events:Sinks:Teams:0:Url"] = Origin + "/workflows/high/triggers/manual/paths/invoke",
            ["Events:Sinks:Teams:0:MinSeverity"] = "high",
            ["Events:Sinks:Teams:1:Name"] = "acknowledgements",
            ["Events:Sinks:Teams:1:Url"] = Origin + "/workflows/acks/triggers/manual/paths/invoke",
            ["Events:Sinks:Teams:1:MinSeverity"] = "medium",
            ["Events:Sinks:Teams:1:Types:0"] = EventTypes.IncidentAcknowledged,
        });
        await using var _ = agent;

        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        await Actions(agent).AcknowledgeAsync(id, Sec, null, CancellationToken.None);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        var (workflow, message) = Assert.Single(agent.Simulator.Receivers.TeamsMessages);
        Assert.Equal(("acks", $"Incident #{id} acknowledged"), (workflow, (string?)message["attachments"]![0]!["content"]!["body"]![0]!["text"]));
        var states = (await agent.Services.GetRequiredService<SinkStore>().ListAsync(CancellationToken.None)).ToDictionary(s => s.Name);
        Assert.Equal((0L, 1L), (states["high-only"].Delivered, states["acknowledgements"].Delivered));
        Assert.Equal(states["acknowledgements"].LastEventId, states["high-only"].LastEventId); // the skipped events are behind it all the same
    }

    [Fact]
    public async Task DeadLetters_AreShownInStatusAndTheDigest_AndRedeliverSendsThemBeforeNewEvents()
    {
        var (agent, id, _) = await AgentAsync(Notifications.NotificationTests.Mail(new Dictionary<string, string?>
        {
            ["Events:Sinks:Teams:0:Name"] = "security-channel",
            ["Events:Sinks:Teams:0:Url"] = Origin + "/workflows/security/triggers/manual/paths/invoke",
            ["Events:Sinks:Teams:0:MinSeverity"] = "low",
            ["Events:MaxAttempts"] = "1",
            ["Events:QuickRetries"] = "0",
        }));
        await using var _ = agent;
        var store = agent.Services.GetRequiredService<SinkStore>();
        var db = agent.Settings["Storage:SqlitePath"]!;
        agent.Simulator.Receivers.Faults.Enqueue(400);

        await Pusher(agent).PushOnceAsync(CancellationToken.None);
        var dead = Assert.Single(await store.DeadLettersAsync(CancellationToken.None));
        var status = await Commands.RunAsync("status", "--db", db);
        var digest = await agent.Services.GetRequiredService<AuditAgent.Notifications.DigestComposer>().RenderAsync(CancellationToken.None);
        var later = await Commands.RunAsync("events", "redeliver", "--sink", "security-channel", "--from", (dead.EventId + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--db", db);
        var redeliver = await Commands.RunAsync("events", "redeliver", "--sink", "security-channel", "--db", db);
        var unknown = await Commands.RunAsync("events", "redeliver", "--sink", "nowhere", "--db", db);
        await Pusher(agent).PushOnceAsync(CancellationToken.None);

        Assert.Equal("HTTP 400", dead.Error);
        Assert.Contains("Event sink security-channel: 0 delivered, 0 behind, 1 dead letters (`auditagent events redeliver --sink security-channel` after fixing the receiver).", status.Output, StringComparison.Ordinal);
        Assert.Contains("Event sink security-channel: 1 dead letters", digest.Text, StringComparison.Ordinal);
        Assert.Contains("Event sink security-channel: 1 dead letters", digest.Html, StringComparison.Ordinal);
        Assert.Contains($"security-channel has no dead letters from event {dead.EventId + 1} on.", later.Output, StringComparison.Ordinal); // --from leaves earlier ones
        Assert.True(redeliver.ExitCode == 0, redeliver.Error);
        Assert.Contains("1 dead letter of security-channel will be sent again", redeliver.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("No sink named 'nowhere' has run", unknown.Error, StringComparison.Ordinal);
        Assert.Empty(await store.DeadLettersAsync(CancellationToken.None));
        var (_, message) = Assert.Single(agent.Simulator.Receivers.TeamsMessages);
        Assert.Equal($"Privacy incident #{id} opened", (string?)message["attachments"]![0]!["content"]!["body"]![0]!["text"]);
    }

    [Fact]
    public void Settings_EachSinkIsCheckedNamingTheKey()
    {
        var result = new EventSinksValidator().Validate(null, new EventsOptions
        {
            Sinks = new SinksOptions
            {
                Syslog = [new SyslogSinkOptions { Name = "qradar", Host = "siem.contoso.com", Port = 0, Transport = SyslogTransport.Tcp }],
                Sentinel = [new SentinelSinkOptions { Name = "sentinel", Endpoint = "https://dce.ingest.monitor.azure.com", Stream = "AuditAgentEvents_CL" }],
                ServiceNow = [new ServiceNowSinkOptions { Name = "qradar", Instance = "https://contoso.service-now.com" }],
            },
        });

        Assert.Contains("Events:Sinks:Syslog:0:Port must be between 1 and 65535 (it is 0).", result.Failures!);
        Assert.Contains("Events:Sinks:Syslog:0:Transport Tcp sends events in clear text; use Tls (RFC 5425) for 'siem.contoso.com' (plain TCP only to this machine, e.g. a local forwarder).", result.Failures!);
        Assert.Contains(result.Failures!, f => f.StartsWith("Events:Sinks:Sentinel:0:RuleId is required.", StringComparison.Ordinal));
        Assert.Contains("Events:Sinks:Sentinel:0:Stream must name the DCR's input stream, Custom-<table> (it is 'AuditAgentEvents_CL').", result.Failures!);
        Assert.Contains("Events:Sinks:ServiceNow:0:Name 'qradar' is used by another sink; each keeps its own checkpoint.", result.Failures!);
        Assert.Contains("Events:Sinks:ServiceNow:0: set either Username and PasswordFile (basic auth) or ClientId and ClientSecretFile (OAuth client credentials).", result.Failures!);
    }

    private static Dictionary<string, string> Extensions(string text)
    {
        // key=value pairs; a value runs to the next " key=" (values may hold spaces, escaped '=' is "\=")
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var matches = System.Text.RegularExpressions.Regex.Matches(text, @"(?:^| )([A-Za-z0-9]+)=((?:\\=|[^=])*?)(?= [A-Za-z0-9]+=|$)");
        foreach (System.Text.RegularExpressions.Match m in matches)
        {
            result[m.Groups[1].Value] = m.Groups[2].Value;
        }

        return result;
    }
}
